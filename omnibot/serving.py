"""``omnibot serve``: what it starts (by default a supervised split of front and answer
processes, :mod:`omnibot.workers`; with a named role, that role in this process or in
``WORKERS`` of them) and the checks that stop it at once with one line (a busy port, a setting
a child would refuse, a broken catalogue)."""

from __future__ import annotations

import errno
import gc
import logging
import multiprocessing
import socket
from concurrent.futures import ProcessPoolExecutor

from aiohttp import web

from connectors.console.token import TokenError, console_token
from intents.catalogue import CatalogueError
from omnibot.app import create_app
from omnibot.channels import check_channels, console_served, console_url
from omnibot.knowledge_cli import KnowledgeCommandError
from omnibot.logs import configure_from
from omnibot.roles import Role, event_loop, lower_priority, run_without_listener
from omnibot.settings import Settings, SettingsError
from omnibot.workers import ChildRefusedError, run_split, run_workers

# The intent model's libraries (numpy, scikit-learn, onnxruntime) are imported by the functions
# that use them, never at this module's import: `omnibot serve --role front` loads no model.

log = logging.getLogger("omnibot")

# errors of binding HOST:PORT that mean "cannot listen there", not a bug
LISTEN_ERRORS = (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES)


class StartupError(Exception):
    """The service cannot start for a reason outside the settings' syntax (e.g. a busy port)."""


def serve(settings: Settings, reuse_port: bool = False, split: bool = False) -> None:
    """Run the service until SIGINT or SIGTERM: split into front and answer processes sized
    to the cores, supervised here, with ``ROLE=auto`` (the default) or ``split``; else
    ``WORKERS`` processes of the role, or this one (``reuse_port``: one of several workers)."""
    if not reuse_port and settings.role.listens:  # a busy port: now, not after a training
        check_listen(settings.host, settings.port)
    if (split or settings.role is Role.AUTO) and not reuse_port:
        check_front(settings)
        prepare_apart(settings)  # the answer processes then load the model from the cache
        try:
            run_split(settings)  # the answer processes load the model; the front needs none
        except ChildRefusedError as error:
            raise StartupError(str(error)) from None
        return
    if settings.workers > 1 and not reuse_port:
        if settings.role.answers:
            # trained (or loaded) once here, so the workers start from the cache, not N
            # trainings; the help-centre index too
            prepare_model(settings)
        run_workers(settings, settings.workers, settings.role)
        return
    serve_one(settings, reuse_port)


def _answering_app(settings: Settings) -> web.Application:
    """The app of a process that answers: its encoder on ``MODEL_THREADS`` threads, its BLAS
    kept to one thread for good once the model is loaded (a limit reaches only the libraries
    loaded, and the model loads with the app)."""
    from intents.blas import pin_to_one_thread  # the model's: see the imports
    from intents.onnx_encoder import use_threads

    if settings.model_threads is not None:
        use_threads(settings.model_threads)
    app = frozen(create_app(settings))
    pin_to_one_thread()
    return app


def serve_one(settings: Settings, reuse_port: bool = False) -> None:
    """Run this process's role (*auto* is *all* here) until SIGINT or SIGTERM."""
    if settings.role is Role.ANSWER:
        lower_priority()  # before the model's libraries start their threads
        run_without_listener(_answering_app(settings))
        return
    app = _answering_app(settings) if settings.role.answers else frozen(create_app(settings))
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    log.info(
        "omnibot is starting (data dir %s); open %s",
        settings.data_dir.resolve(),
        settings.public_url or f"http://{host}:{settings.port}/",
    )
    try:
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            access_log=None,
            print=None,
            reuse_port=reuse_port or None,
            loop=event_loop(),
        )
    except OSError as error:
        if error.errno not in LISTEN_ERRORS:
            raise
        raise StartupError(_listen_failure(settings.host, settings.port, error)) from None


def check_front(settings: Settings) -> None:
    """Refuse now, in the supervising parent, the settings a front process would refuse at
    its start (a child's refusal would only reach its log)."""
    check_channels(settings)
    if console_served(settings):
        try:
            console_token(settings.agent_console_token, settings.data_dir, console_url(settings))
        except TokenError as error:
            raise SettingsError(error.name, error.value, error.expected) from None


def prepare_apart(settings: Settings) -> None:
    """:func:`prepare_model` in a process of its own (the supervising parent stays small);
    its refusal (a broken catalogue, a setting) stops ``serve`` here with its one line."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as pool:
        refusal = pool.submit(_prepare_or_refusal, settings).result()
    if refusal is not None:
        raise StartupError(refusal)


def _prepare_or_refusal(settings: Settings) -> str | None:
    """In the preparing process: None once the model is cached, else the refusal's line
    (its text, not the exception: a setting error does not survive pickling)."""
    configure_from(settings)
    try:
        prepare_model(settings)
    except (SettingsError, CatalogueError, KnowledgeCommandError) as error:
        return str(error)
    return None


def frozen(app: web.Application) -> web.Application:
    """``app``, its long-lived objects out of later garbage collections: the model leaves
    ~155k of them, and a full collection over them stalled every request for 110-150 ms."""
    gc.collect()
    gc.freeze()
    return app


def prepare_model(settings: Settings) -> None:
    """Load (or train) the intent model and the help-centre index into the cache, then let
    them go: the processes started next load them from there."""
    from omnibot.engine import build_intents  # the model's libraries: see the imports

    intents = build_intents(settings)
    intents.classifier.close()
    if intents.knowledge is not None:
        intents.knowledge.close()


def check_listen(host: str, port: int) -> None:
    """Raise :class:`StartupError` when ``host:port`` cannot be listened on."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        raise StartupError(_listen_failure(host, port, error)) from None


def _listen_failure(host: str, port: int, error: OSError) -> str:
    reason = error.strerror or str(error)
    return f"cannot listen on HOST={host} PORT={port}: {reason}"
