"""Great Expectations 1.24, spared work it repeats per keyword: GX's `Expectation.configuration` is a property that
builds a new configuration on every read (a pydantic model turned into a dict, then into an
`ExpectationConfiguration`), and the methods that gather an expectation's keyword arguments read it once per
keyword (`_get_runtime_kwargs` → `_get_success_kwargs` → `_get_domain_kwargs`; `_get_success_kwarg` twice).

`speed_up_kwargs()` makes each such gathering build it once: while one runs, the property answers from that
gathering's copy. The copy lives only as long as the call, which only reads the expectation, so each method returns
what GX's own returns (tests/test_quality.py compares them for every expectation of the suites). A gate of the
seven suites built 11,709 configurations, now 2,788; the GX worker's validation of one small release took 1.50 s,
now 1.32 s (medians of 6, alternating, on a slow 2-core machine).

Only for the GX version it was written against (`GX_VERSION`, the one uv.lock pins): another is left as it is, and
a test then fails, so whoever upgrades GX looks at this again.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import great_expectations
from great_expectations.expectations.expectation import Expectation

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
