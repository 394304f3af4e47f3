"""Shared pytest options: ``--real-data DIR`` turns on the tests marked ``realdata``;
``--fuzz`` and ``--ondemand`` the long ones marked ``fuzz`` and ``ondemand``."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--real-data",
        action="store",
        default=None,
        metavar="DIR",
        help="folder of real data (../shared/data); runs the tests marked realdata",
    )
    parser.addoption(
        "--fuzz",
        action="store_true",
        default=False,
        help="run the tests marked fuzz (10,000 generated inputs per parser; minutes)",
    )
    parser.addoption(
        "--ondemand",
        action="store_true",
        default=False,
        help="run the tests marked ondemand (1M-row runs; minutes)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_real = pytest.mark.skip(reason="needs --real-data DIR")
    skip_fuzz = pytest.mark.skip(reason="on demand: pytest --fuzz")
    skip_ondemand = pytest.mark.skip(reason="on demand: pytest --ondemand")
    for item in items:
        if "realdata" in item.keywords and not config.getoption("--real-data"):
            item.add_marker(skip_real)
        if "fuzz" in item.keywords and not config.getoption("--fuzz"):
            item.add_marker(skip_fuzz)
        if "ondemand" in item.keywords and not config.getoption("--ondemand"):
            item.add_marker(skip_ondemand)


@pytest.fixture(scope="session")
def real_data(request: pytest.FixtureRequest) -> Path:
    """The --real-data folder; tests using it are skipped without the option."""
    value = request.config.getoption("--real-data")
    if not value:
        pytest.skip("needs --real-data DIR")
    path = Path(value).resolve()
    if not path.is_dir():
        pytest.fail(f"--real-data {value}: not a folder")
    return path


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
