"""The built wheel, installed in a fresh virtual environment outside the checkout, answers an
order question from its own files: everything the runtime reads is packaged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "connectors", "intents")
# Generated or heavy parts of the checkout that a build never reads.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "var",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
)
TIMEOUT_S = 180
# What the runtime reads besides Python: catalogue, sample orders, the web chat's static files,
# the demo shop's help-centre articles.
DATA_SUFFIXES = (".yml", ".yaml", ".json", ".html", ".css", ".js", ".md")

# Run by the new environment's interpreter: where the packages come from, and the answer of
# rasa-sdk's executor to an order question, with the bundled orders file.
ASK = textwrap.dedent("""
    import asyncio, json
    import bot, connectors, intents
    from bot.contracts import Prediction
    from bot.models import Conversation
    from omnibot.settings import DEFAULT_INTENTS_PATH
    from connectors.webchat.connector import STATIC_DIR
    from intents.action_runner import InProcessActions
    from intents.actions.order_status import DEFAULT_ORDERS_PATH
    from intents.catalogue import load_catalogue

    result = asyncio.run(InProcessActions().run(
        "action_order_status", Conversation(id="c1", customer_id="c1"),
        Prediction("order_status", 0.9, True, (("order_status", 0.9),)),
        "where is order 100234?", {}))
    print(json.dumps({
        "modules": [m.__file__ for m in (bot, connectors, intents)],
        "data": [str(p) for p in (DEFAULT_ORDERS_PATH, DEFAULT_INTENTS_PATH, STATIC_DIR)],
        "intents": len(load_catalogue(DEFAULT_INTENTS_PATH).intents),
        "static": sorted(p.name for p in STATIC_DIR.iterdir()),
        "texts": list(result.texts),
    }))
""")


def run(*args: str | Path, cwd: Path) -> str:
    """Run a command outside the checkout; its stdout, or a failure showing its output."""
    # No PYTHONPATH or user site: only the new environment decides what imports.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    }
    env.update(PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    done = subprocess.run(  # noqa: S603 - our own commands
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(tmp_path: Path) -> Path:
    """Build omnibot's wheel from a copy of the checkout (a build writes ``build/`` and
    ``*.egg-info`` next to its sources; the checkout is shared)."""
    source = tmp_path / "source"
    shutil.copytree(CHECKOUT, source, ignore=NOT_SOURCE)
    wheels = tmp_path / "wheels"
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--quiet",
        "--wheel-dir",
        wheels,
        source,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("omnibot-*.whl")
    return wheel


def test_wheel_installed_elsewhere_answers_from_its_own_files(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    data = sorted(
        str(p.relative_to(CHECKOUT))
        for name in PACKAGES
        for p in (CHECKOUT / name).rglob("*")
        if p.is_file() and p.suffix in DATA_SUFFIXES
    )
    with zipfile.ZipFile(wheel) as archive:
        missing = sorted(set(data) - set(archive.namelist()))
    assert "intents/actions/orders.json" in data
    assert "intents/help_centre/merino-wool-care.md" in data
    assert not missing, f"the wheel leaves out {missing}"

    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env)  # pip runs from outside, through --python
    python = env / "bin" / "python"
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "--no-index",
        "--quiet",
        wheel,
        cwd=tmp_path,
    )
    site = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).strip()
    )
    # The dependencies come from the test's own environment, not reinstalled. A plain path line
    # runs none of that directory's .pth files, so its editable finder (which would import the
    # checkout) stays off.
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "omnibot-test-dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    run(sys.executable, "-m", "pip", "--python", python, "check", cwd=tmp_path)

    (tmp_path / "ask.py").write_text(ASK)
    answer = json.loads(run(python, "-I", tmp_path / "ask.py", cwd=tmp_path))
    for path in answer["modules"] + answer["data"]:
        assert Path(path).resolve().is_relative_to(site.resolve()), f"{path}: not the wheel's"
    assert answer["intents"] > 0
    assert {"index.html", "widget.css", "widget.js"} <= set(answer["static"])
    orders = json.loads((CHECKOUT / "intents" / "actions" / "orders.json").read_text())
    (text,) = answer["texts"]
    assert orders["100234"]["status"] in text

    assert "serve" in run(env / "bin" / "omnibot", "--help", cwd=tmp_path)
