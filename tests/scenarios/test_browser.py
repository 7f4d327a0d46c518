"""The widget in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import re
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from bot.article import ArticleRef
from bot.models import Address, Message, Role
from bot.models.messages import Media
from omnibot.app import create_app
from omnibot.engine import build_intents
from omnibot.services import SERVICES
from omnibot.settings import Settings
from tests.conftest import AppFactory
from tests.support.phone import Phone
from tests.support.polling import work_done
from tests.support.twilio_fake import FakeTwilio

ServerFactory = Any  # pytest-aiohttp's aiohttp_server fixture
RASA_PROJECT = Path(__file__).resolve().parent.parent / "data" / "rasa_project"


@pytest.fixture
def app(make_app: AppFactory) -> web.Application:
    return make_app()


@pytest.fixture
async def base_url(aiohttp_server: ServerFactory, app: web.Application) -> str:
    server = await aiohttp_server(app)
    return f"http://{server.host}:{server.port}"


async def ask(page: Page, text: str) -> None:
    await page.get_by_label("Message").fill(text)
    await page.keyboard.press("Enter")


async def greeted(browser: Browser, base_url: str, app: web.Application) -> tuple[Page, str]:
    """A visitor's page after "hello" was answered, and the visitor's customer id."""
    page = await browser.new_page()
    await page.goto(base_url + "/")
    await page.get_by_role("button", name="Open chat").click()
    await ask(page, "hello")
    await expect(page.locator(".omnibot-bot:not(.omnibot-welcome)")).to_have_count(
        1, timeout=15_000
    )
    token = await page.evaluate("localStorage.getItem('omnibot.token')")
    cid = await app[SERVICES].store.customer_for(Address("webchat", token))
    assert cid is not None
    return page, cid


async def test_a_visitor_asks_and_sees_the_answer_then_reloads(
    browser: Browser, base_url: str
) -> None:
    page = await browser.new_page()
    await page.goto(base_url + "/")
    await page.get_by_role("button", name="Open chat").click()
    await ask(page, "where is my order?")
    bot_answers = page.locator(".omnibot-bot:not(.omnibot-welcome)")
    await expect(bot_answers).to_have_count(1, timeout=15_000)
    await expect(bot_answers.first).to_contain_text("order")
    customer_texts = page.locator(".omnibot-customer .omnibot-text")
    await expect(customer_texts).to_have_text(["where is my order?"])

    await ask(page, "I want to talk to a human")
    await expect(page.get_by_role("status").filter(has_text="agent will join")).to_be_visible()

    await page.reload()  # the stored token resumes the conversation with its history
    await expect(page.locator(".omnibot-customer")).to_have_count(2, timeout=15_000)
    await expect(page.locator(".omnibot-banner")).to_contain_text("An agent will join shortly")
    await page.close()


async def test_the_widget_fits_a_phone_screen(browser: Browser, base_url: str) -> None:
    page = await browser.new_page(viewport={"width": 375, "height": 667})
    await page.goto(base_url + "/")
    await page.get_by_role("button", name="Open chat").click()
    panel = page.get_by_role("dialog")
    await expect(panel).to_be_visible()
    box = await panel.bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 375, 667)
    await page.close()


async def test_an_attachment_shows_as_a_link(
    browser: Browser, base_url: str, app: web.Application
) -> None:
    page, cid = await greeted(browser, base_url, app)
    store = app[SERVICES].store
    picture = Media("https://media.example.com/receipt.jpg", "image/jpeg")
    await store.record(
        cid, (Message(role=Role.CUSTOMER, text="", channel="sms", media=(picture,)),)
    )
    link = page.get_by_role("link", name="Picture 1")
    await expect(link).to_have_attribute("href", picture.url)
    await page.close()


async def test_an_answer_from_an_article_links_it_and_only_to_the_web(
    browser: Browser, base_url: str, app: web.Application
) -> None:
    page, cid = await greeted(browser, base_url, app)
    store = app[SERVICES].store
    care = ArticleRef("care", "Caring for <b>merino</b>", "https://help.example.com/care", 0.9)
    trap = ArticleRef("trap", "Gift cards", "javascript:alert(1)", 0.9)
    await store.record(
        cid,
        (
            Message(role=Role.BOT, text="Wash it cold.", article=care),
            Message(role=Role.BOT, text="They never expire.", article=trap),
        ),
    )
    link = page.get_by_role("link", name="Caring for <b>merino</b>")  # the title as text
    await expect(link).to_have_attribute("href", "https://help.example.com/care")
    await expect(link).to_have_attribute("target", "_blank")
    await expect(link).to_have_attribute("rel", "noopener")
    articles = page.locator(".omnibot-article")
    await expect(articles).to_have_count(2)
    await expect(articles.nth(1)).to_have_text("From: Gift cards")
    assert await articles.nth(1).locator("a").count() == 0  # a javascript: url is no link
    assert await page.locator(".omnibot-article b").count() == 0
    await page.reload()  # the history frame names the article too
    await page.get_by_role("button", name="Open chat").click()
    await expect(page.get_by_role("link", name="Caring for <b>merino</b>")).to_be_visible(
        timeout=15_000
    )
    await page.close()


async def sms_shop(
    aiohttp_server: ServerFactory, make_app: AppFactory, sms_settings: dict[str, object]
) -> tuple[str, web.Application]:
    """The shop with SMS on, served on a port of its own whose origin the web chat allows
    beside ``PUBLIC_URL``'s; its base URL and app."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    app = make_app(webchat_allowed_origins=(base_url,), **sms_settings)
    await aiohttp_server(app, host="127.0.0.1", port=port)
    return base_url, app


async def test_a_visitor_links_a_phone_and_texts_on_with_the_chat_known(
    browser: Browser,
    aiohttp_server: ServerFactory,
    make_app: AppFactory,
    sms_settings: dict[str, object],
    twilio_api: FakeTwilio,
) -> None:
    base_url, app = await sms_shop(aiohttp_server, make_app, sms_settings)
    page = await browser.new_page()
    await page.goto(base_url + "/")
    await page.get_by_role("button", name="Open chat").click()
    answers = page.locator(".omnibot-bot:not(.omnibot-welcome) .omnibot-text")
    await ask(page, "how do I return an item?")
    await expect(answers).to_have_count(1, timeout=15_000)
    await page.get_by_role("button", name="Continue by SMS").click()
    await expect(answers.last).to_contain_text("mobile number", timeout=15_000)
    await ask(page, "+1 555 765 4321")
    await expect(answers.last).to_contain_text("texted a 6-digit code", timeout=15_000)
    await work_done(app)  # the code is sent after the note is stored
    [code_sms] = twilio_api.created
    code = re.search(r"\b\d{6}\b", str(code_sms["body"]))
    assert code is not None
    await ask(page, code.group(0))
    await expect(answers.last).to_contain_text("is linked", timeout=15_000)

    async with aiohttp.ClientSession(base_url) as http:
        phone = Phone(http, app, twilio_api)
        assert await phone.text("did you get my return request?") == 200
        await phone.settle()
    # the answer by SMS shows the web conversation is known; the page shows both channels
    assert phone.received()[-2] == (
        'Carrying on from our web chat, where you wrote: "how do I return an item?"'
    )
    await expect(page.locator(".omnibot-customer .omnibot-text").last).to_have_text(
        "did you get my return request?", timeout=15_000
    )
    said = phone.received()[-1].split("\n1. ")[0]  # SMS numbers the suggested replies after it
    await expect(answers.last).to_have_text(said, timeout=15_000)
    await page.close()


async def test_a_rasa_responses_buttons_are_quick_replies(
    browser: Browser,
    aiohttp_server: ServerFactory,
    settings: Settings,
    intents_data_dir: Path,
) -> None:
    engine = build_intents(Settings(data_dir=intents_data_dir, intents_path=RASA_PROJECT))
    try:
        app = create_app(replace(settings, intents_path=RASA_PROJECT), intents=engine)
        server = await aiohttp_server(app)
        page = await browser.new_page()
        await page.goto(f"http://{server.host}:{server.port}/")
        await page.get_by_role("button", name="Open chat").click()
        await ask(page, "what can you help me with?")
        answers = page.locator(".omnibot-bot:not(.omnibot-welcome) .omnibot-text")
        await expect(answers).to_have_count(2, timeout=15_000)
        replies = page.get_by_role("group", name="Suggested replies")
        await expect(replies.get_by_role("button")).to_have_text(["Yes", "No"])
        await replies.get_by_role("button", name="Yes").click()
        await expect(answers.last).to_have_text("Great, let's go on.", timeout=15_000)
        await expect(page.locator(".omnibot-customer .omnibot-text").last).to_have_text("Yes")
        await expect(replies).to_have_count(0)  # suggestions belong to the newest message only
        await page.close()
    finally:
        engine.classifier.close()


async def test_a_link_asks_a_visitor_with_a_conversation_before_switching(
    browser: Browser,
    aiohttp_server: ServerFactory,
    make_app: AppFactory,
    sms_settings: dict[str, object],
    twilio_api: FakeTwilio,
) -> None:
    base_url, app = await sms_shop(aiohttp_server, make_app, sms_settings)
    async with aiohttp.ClientSession(base_url) as http:
        phone = Phone(http, app, twilio_api)
        await phone.text("please continue on the web")
        await phone.settle()
    found = re.search(r"\?continue=([A-Za-z0-9_-]+)", phone.received()[-1])
    assert found is not None
    page = await browser.new_page()
    await page.goto(base_url + "/")
    await page.get_by_role("button", name="Open chat").click()
    await ask(page, "hello")
    await expect(page.locator(".omnibot-bot:not(.omnibot-welcome)")).to_have_count(
        1, timeout=15_000
    )
    mine = await page.evaluate("localStorage.getItem('omnibot.token')")

    await page.goto(f"{base_url}/?continue={found.group(1)}")  # someone sent them the link
    offer = page.get_by_role("group", name="Switch conversation")
    await expect(offer).to_contain_text(
        "Continue your SMS conversation with …ending 4321?", timeout=15_000
    )
    await expect(page.locator(".omnibot-customer .omnibot-text")).to_have_text(["hello"])
    await offer.get_by_role("button", name="Stay here").click()
    await expect(offer).to_be_hidden()
    assert "continue=" not in page.url
    assert await page.evaluate("localStorage.getItem('omnibot.token')") == mine

    await page.goto(f"{base_url}/?continue={found.group(1)}")  # still unused: they switch
    await offer.get_by_role("button", name="Switch").click()
    await expect(page.locator(".omnibot-link-note")).to_have_text(
        "Continuing your SMS conversation with …ending 4321.", timeout=15_000
    )
    await expect(page.locator(".omnibot-customer .omnibot-text")).to_have_text(
        ["please continue on the web"]
    )
    switched = await page.evaluate("localStorage.getItem('omnibot.token')")
    store = app[SERVICES].store
    assert await store.customer_for(Address("webchat", switched)) == await phone.conversation_id()
    assert await store.customer_for(Address("webchat", mine)) != await phone.conversation_id()
    await page.close()
