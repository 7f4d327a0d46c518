"""The widget in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from bot.app import SERVICES
from bot.models import Address, Media, Message, Role
from tests.conftest import AppFactory

ServerFactory = Any  # pytest-aiohttp's aiohttp_server fixture


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
    page = await browser.new_page()
    await page.goto(base_url + "/")
    await page.get_by_role("button", name="Open chat").click()
    await ask(page, "hello")
    await expect(page.locator(".omnibot-bot:not(.omnibot-welcome)")).to_have_count(
        1, timeout=15_000
    )
    token = await page.evaluate("localStorage.getItem('omnibot.token')")
    store = app[SERVICES].store
    cid = await store.customer_for(Address("webchat", token))
    assert cid is not None
    picture = Media("https://media.example.com/receipt.jpg", "image/jpeg")
    await store.record(
        cid, (Message(role=Role.CUSTOMER, text="", channel="sms", media=(picture,)),)
    )
    link = page.get_by_role("link", name="Picture 1")
    await expect(link).to_have_attribute("href", picture.url)
    await page.close()
