"""Great Expectations 1.24, spared work it repeats.

1. Per keyword. GX's `Expectation.configuration` is a property that builds a new configuration on every read (a
   pydantic model turned into a dict, then into an `ExpectationConfiguration`), and the methods that gather an
   expectation's keyword arguments read it once per keyword (`_get_runtime_kwargs` → `_get_success_kwargs` →
   `_get_domain_kwargs`; `_get_success_kwarg` twice). `speed_up_kwargs()` makes each such gathering build it once:
   while one runs, the property answers from that gathering's copy. The copy lives only as long as the call, which
   only reads the expectation, so each method returns what GX's own returns (tests/test_quality.py compares them for
   every expectation of the suites). A gate of the seven suites built 11,709 configurations, now 2,788; the GX
   worker's validation of one small release took 1.50 s, now 1.32 s (medians of 6, alternating, on a slow 2-core
   machine).
2. Per Data Docs build. GX renders its pages with jinja2 templates and gives each of its page builders (index,
   suites, validations) an environment of its own, built anew for every build: a run compiled ~50 templates from
   their source, about half of its Data Docs' time. `cache_compiled_templates(directory)` gives those environments
   jinja2's own bytecode cache in a folder, so each template is compiled once and later builds, in this run and the
   next ones, load it (keyed by the template's name and source, so another GX's templates compile anew). The
   seven suites' Data Docs: 0.47–0.73 s, now 0.21–0.33 s with the folder filled.

Only for the GX version they were written against (`GX_VERSION`, the one uv.lock pins): another is left as it is,
and a test then fails, so whoever upgrades GX looks at this again.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import great_expectations
import jinja2
from great_expectations.expectations.expectation import Expectation
from great_expectations.render.view.view import DefaultJinjaView

log = logging.getLogger(__name__)

GX_VERSION = "1.24.1"
# The methods that read `configuration` once per keyword they look up.
KWARG_METHODS = ("_get_runtime_kwargs", "_get_success_kwargs", "_get_domain_kwargs", "_get_success_kwarg")

_built = Expectation.__dict__["configuration"]  # GX's property, which builds a new configuration on every read
_within = threading.local()  # the configurations built during the kwarg methods running on this thread


def speed_up_kwargs() -> bool:
    """Build each expectation's configuration once per keyword gathering (idempotent). False, and GX left as it
    is, for a GX version other than GX_VERSION."""
    if great_expectations.__version__ != GX_VERSION:
        return False
    if Expectation.__dict__["configuration"] is not _built:
        return True  # done already
    Expectation.configuration = property(_configuration)  # type: ignore[method-assign,assignment]
    for name in KWARG_METHODS:
        setattr(Expectation, name, _building_configuration_once(getattr(Expectation, name)))
    return True


def _configuration(expectation: Expectation) -> Any:
    built: dict[int, Any] | None = getattr(_within, "built", None)
    if built is None:  # outside the kwarg methods: as GX does
        return _built.fget(expectation)
    if id(expectation) not in built:
        built[id(expectation)] = _built.fget(expectation)
    return built[id(expectation)]


def _building_configuration_once(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def gathering(self: Expectation, *args: Any, **kwargs: Any) -> Any:
        with _one_build_per_expectation():
            return method(self, *args, **kwargs)

    return gathering


@contextmanager
def _one_build_per_expectation() -> Iterator[None]:
    if getattr(_within, "built", None) is not None:  # an outer kwarg method holds the copies already
        yield
        return
    _within.built = {}
    try:
        yield
    finally:
        _within.built = None


_view_init = DefaultJinjaView.__init__  # GX's own, which builds the view's jinja2 environment
_templates: dict[str, jinja2.BytecodeCache | None] = {"cache": None}  # what every view's environment gets


def cache_compiled_templates(directory: Path | None) -> bool:
    """Keep the Data Docs' compiled templates in `directory` from now on, in this process; None: compile them for
    each build, as GX does. False, and each build compiling them, for a GX version other than GX_VERSION or a folder
    that cannot be made."""
    _templates["cache"] = None
    if directory is None or great_expectations.__version__ != GX_VERSION:
        return False
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only state folder: the Data Docs compile their templates, as GX does
        log.debug("no template cache in %s: %s", directory, exc)
        return False
    _templates["cache"] = _TemplateCache(str(directory))
    if DefaultJinjaView.__init__ is _view_init:
        DefaultJinjaView.__init__ = _with_template_cache  # type: ignore[method-assign]
    return True


def _with_template_cache(self: DefaultJinjaView, *args: Any, **kwargs: Any) -> None:
    _view_init(self, *args, **kwargs)
    self.env.bytecode_cache = _templates["cache"]


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """jinja2's cache of compiled templates in a folder, where a file it cannot read or write (a full disk, a file
    cut short) costs a compile, never the Data Docs."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception as exc:  # noqa: BLE001 - any unreadable entry is a miss
            log.debug("compiled template %s unreadable: %s", bucket.key, exc)
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except Exception as exc:  # noqa: BLE001 - the template is compiled; only its copy for later is lost
            log.debug("compiled template %s not kept: %s", bucket.key, exc)
