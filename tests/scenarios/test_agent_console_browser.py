"""The agent console in a real headless Chromium (Debian's), driven by Playwright: a customer
asks the widget for a person, an agent answers from ``/agent`` in another page."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from playwright.async_api import Browser, Page, expect

from bot.article import ArticleRef
from bot.models import Address, Message, Role
from bot.texts import Texts
from connectors.console.token import TOKEN_FILE
from omnibot.services import SERVICES
from omnibot.settings import Settings
from tests.conftest import AppFactory
from tests.connectors.console.test_console import console_app

ServerFactory = Any  # pytest-aiohttp's aiohttp_server fixture
TOKEN = "console-token-77c0d1e5b2a4"
WAIT_MS = 15_000

TEXTS = Texts()


async def serve(aiohttp_server: ServerFactory, app: web.Application) -> str:
    server = await aiohttp_server(app)
    return f"http://{server.host}:{server.port}"


async def watched(browser: Browser, problems: list[str]) -> Page:
    """A new page whose script errors, console errors (CSP refusals too) and failed requests
    are collected; the shop page's missing favicon and expected 401s are not problems."""
    page = await browser.new_page()
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if response.status >= 400
            and response.status != 401
            and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    return page


async def customer_asks_for_a_person(page: Page, base_url: str) -> None:
    await page.goto(base_url + "/")
    await page.get_by_role("button", name="Open chat").click()
    await say(page, "I want to talk to a human")
    await expect(page.get_by_role("status").filter(has_text="agent will join")).to_be_visible(
        timeout=WAIT_MS
    )


async def say(page: Page, text: str) -> None:
    await page.get_by_label("Message").fill(text)
    await page.keyboard.press("Enter")


async def test_an_agent_claims_and_answers_a_customer(
    browser: Browser, aiohttp_server: ServerFactory, make_app: AppFactory, settings: Settings
) -> None:
    # no AGENT_CONSOLE_TOKEN: the agent follows the sign-in link the first start logs
    base_url = await serve(aiohttp_server, console_app(make_app, agent_console_token=None))
    token = (settings.data_dir / TOKEN_FILE).read_text(encoding="utf-8").strip()
    problems: list[str] = []
    agent = await watched(browser, problems)
    await agent.goto(f"{base_url}/agent#token={token}")
    await expect(agent.get_by_role("status").filter(has_text="Online")).to_be_visible()
    assert agent.url == base_url + "/agent"  # the token left the address bar
    await expect(agent.get_by_text("Nobody is waiting")).to_be_visible()
    await agent.get_by_label("Your name").fill("Sam")
    await agent.get_by_role("button", name="Save name").click()

    customer = await watched(browser, problems)
    await customer_asks_for_a_person(customer, base_url)
    ticket = agent.get_by_role("button", name=re.compile(r"Customer .*Waiting"))
    await expect(ticket).to_have_count(1, timeout=WAIT_MS)  # the list is live: no reload
    await expect(agent.locator("#announce")).to_contain_text("New conversation waiting")
    await expect(ticket).to_contain_text("I want to talk to a human")
    await expect(ticket).to_contain_text(re.compile(r"Waiting \d+ s"))
    await expect(agent).to_have_title(re.compile(r"^\(1\) Agent desk"))
    await ticket.click()
    history = agent.get_by_role("log")
    await expect(history).to_contain_text("I want to talk to a human")

    await agent.get_by_role("button", name="Claim", exact=True).click()
    await expect(agent.locator("#outcome")).to_contain_text("You claimed this conversation")
    await expect(agent.get_by_role("button", name="Claimed by you")).to_be_disabled()
    await expect(agent.get_by_role("heading", level=3).filter(has_text="Claimed")).to_contain_text(
        "1"
    )
    await agent.get_by_label("Message").fill("Hi, Sam here. Let me look at your order.")
    await agent.get_by_role("button", name="Send reply").click()

    answer = customer.locator(".omnibot-agent")
    await expect(answer).to_have_count(1, timeout=WAIT_MS)
    await expect(answer.locator(".omnibot-author")).to_have_text("Sam")
    await expect(answer.locator(".omnibot-text")).to_have_text(
        "Hi, Sam here. Let me look at your order."
    )
    await expect(customer.locator(".omnibot-system")).to_contain_text(["Sam joined"])

    await say(customer, "It is order 100234")  # reaches the agent without a reload
    await expect(history.locator(".ac-customer").last).to_contain_text(
        "It is order 100234", timeout=WAIT_MS
    )
    await agent.get_by_label("Message").fill("Checked the tracking: it ships today")
    await agent.get_by_role("button", name="Add internal note").click()
    note = history.locator(".ac-note")
    await expect(note).to_contain_text("Internal note · Sam")
    await expect(note).to_contain_text("Checked the tracking")

    await agent.get_by_role("button", name="Resolve").click()
    await expect(customer.locator(".omnibot-system").last).to_have_text(
        TEXTS.resolved.format(agent="Sam"), timeout=WAIT_MS
    )
    await expect(agent.locator("#queue-empty")).to_be_visible(timeout=WAIT_MS)
    await expect(agent.get_by_role("button", name="Back to bot")).to_be_disabled()
    assert "Checked the tracking" not in await customer.content()
    assert problems == []
    await agent.close()
    await customer.close()


async def test_with_a_token_the_agent_signs_in_first(
    browser: Browser, aiohttp_server: ServerFactory, make_app: AppFactory
) -> None:
    base_url = await serve(aiohttp_server, console_app(make_app, agent_console_token=TOKEN))
    problems: list[str] = []
    agent = await watched(browser, problems)
    await agent.goto(base_url + "/agent")
    await agent.get_by_label("Console token").fill("a guess")
    await agent.get_by_role("button", name="Sign in").click()
    await expect(agent.get_by_role("alert")).to_contain_text("not right")

    await agent.get_by_label("Console token").fill(TOKEN)
    await agent.get_by_role("button", name="Sign in").click()
    await expect(agent.get_by_role("heading", name="Agent desk")).to_be_visible()
    await expect(agent.get_by_role("status").filter(has_text="Online")).to_be_visible()
    assert TOKEN not in agent.url
    assert await agent.evaluate("document.cookie") == ""  # HttpOnly: out of scripts' reach

    await agent.get_by_role("button", name="Sign out").click()
    await expect(agent.get_by_label("Console token")).to_be_visible()
    assert problems == []
    await agent.close()


async def test_the_agent_sees_which_article_answered_before_the_hand_over(
    browser: Browser, aiohttp_server: ServerFactory, make_app: AppFactory
) -> None:
    app = console_app(make_app, agent_console_token=TOKEN)
    base_url = await serve(aiohttp_server, app)
    problems: list[str] = []
    customer = await watched(browser, problems)
    await customer.goto(base_url + "/")
    await customer.get_by_role("button", name="Open chat").click()
    await say(customer, "hello")
    await expect(customer.locator(".omnibot-bot:not(.omnibot-welcome)")).to_have_count(
        1, timeout=WAIT_MS
    )
    token = await customer.evaluate("localStorage.getItem('omnibot.token')")
    store = app[SERVICES].store
    cid = await store.customer_for(Address("webchat", token))
    assert cid is not None
    care = ArticleRef("care", "Caring for <i>merino</i>", "https://help.example.com/care", 0.9)
    trap = ArticleRef("trap", "Gift cards", "javascript:alert(1)", 0.9)
    await store.record(
        cid,
        (
            Message(role=Role.BOT, text="Wash it cold.", article=care),
            Message(role=Role.BOT, text="They never expire.", article=trap),
        ),
    )
    await say(customer, "I want to talk to a human")
    await expect(customer.get_by_role("status").filter(has_text="agent will join")).to_be_visible(
        timeout=WAIT_MS
    )

    agent = await watched(browser, problems)
    await agent.goto(base_url + "/agent")
    await agent.get_by_label("Console token").fill(TOKEN)
    await agent.get_by_role("button", name="Sign in").click()
    ticket = agent.get_by_role("button", name=re.compile(r"Customer .*Waiting"))
    await expect(ticket).to_have_count(1, timeout=WAIT_MS)
    await ticket.click()
    answered = agent.get_by_role("log").locator(".ac-article")
    await expect(answered).to_have_text(
        [
            "(answered from: Caring for <i>merino</i> https://help.example.com/care)",
            "(answered from: Gift cards javascript:alert(1))",
        ],
        timeout=WAIT_MS,
    )
    link = answered.first.get_by_role("link")
    await expect(link).to_have_attribute("href", "https://help.example.com/care")
    assert await answered.nth(1).locator("a").count() == 0  # a javascript: url is no link
    assert await answered.locator("i").count() == 0  # the title is text, not markup
    assert problems == []
    await agent.close()
    await customer.close()


async def test_a_card_number_shows_masked_until_the_agent_reveals_it(
    browser: Browser, aiohttp_server: ServerFactory, make_app: AppFactory
) -> None:
    card = "4111 1111 1111 1111"
    base_url = await serve(aiohttp_server, console_app(make_app, agent_console_token=TOKEN))
    problems: list[str] = []
    customer = await watched(browser, problems)
    await customer_asks_for_a_person(customer, base_url)
    await say(customer, f"my card is {card}")
    await expect(customer.locator(".omnibot-customer").last).to_contain_text(card)  # their own

    agent = await watched(browser, problems)
    await agent.goto(base_url + "/agent")
    await agent.get_by_label("Console token").fill(TOKEN)
    await agent.get_by_role("button", name="Sign in").click()
    ticket = agent.get_by_role("button", name=re.compile(r"Customer .*Waiting"))
    await expect(ticket).to_contain_text("•••• 1111", timeout=WAIT_MS)
    await ticket.click()
    said = agent.get_by_role("log").locator(".ac-customer").filter(has_text="my card is")
    await expect(said).to_contain_text("my card is [card •••• 1111]", timeout=WAIT_MS)
    assert card not in await agent.content()  # the page never got it

    await said.get_by_role("button", name="Reveal").click()
    await expect(said.locator(".ac-text")).to_have_text(f"my card is {card}")
    await expect(said).to_contain_text("Revealed (recorded)")
    assert await said.get_by_role("button", name="Reveal").count() == 0
    assert problems == []
    await agent.close()
    await customer.close()
