"""Shared fixtures of the report tests: the demo data and one report of its first match, built once."""

import pytest

import strategist
from strategist.data.demo import demo_path


@pytest.fixture(scope="session")
def demo_table():
    return strategist.load_rallies(demo_path()).table


@pytest.fixture(scope="session")
def demo_report(demo_table):
    from strategist.report import build_report

    return build_report(demo_table, data_label="shipped demo")


@pytest.fixture(scope="session")
def small_table():
    """Four simulated matches: a small population for the degraded-input reports."""
    from strategist.simulate import canonical_table, simulate_matches

    return canonical_table(simulate_matches(matches=4, seed=3))


@pytest.fixture(scope="session")
def report_files(demo_report, tmp_path_factory):
    from strategist.report import write_html, write_json, write_pdf

    folder = tmp_path_factory.mktemp("report")
    return {"html": write_html(demo_report, folder / "r.html"), "pdf": write_pdf(demo_report, folder / "r.pdf"),
            "json": write_json(demo_report, folder / "r.json"), "folder": folder}
