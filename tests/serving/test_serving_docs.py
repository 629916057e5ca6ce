"""/docs and /redoc in real headless Chromium with the network blocked; the docs' example works.

Chromium (Debian's `chromium` package) may reach 127.0.0.1 only: every other host name
resolves to nothing and every other address goes to a proxy that is not there. FastAPI's
own pages, which load Swagger UI from a CDN, stay blank that way (checked below, so that
the block is known to hold); shipml's pages come with their scripts and render /predict.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from _server import free_port, running
from _variants import toy_variant
from fastapi import FastAPI

from _projects import fitted_model
from shipml.project.project import Project
from shipml.serving import create_app

SUMMARY = "Predict for one record or a list of records"
OFFLINE = [
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:{dead_port}",  # anything not on loopback goes nowhere
]


def rendered(url: str, profile: Path) -> str:
    """The page's DOM once its scripts have run, in headless Chromium without a network."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "chromium is not installed; install Debian's package: apt-get install -y chromium",
            pytrace=False,
        )
    blocked = [flag.format(dead_port=free_port()) for flag in OFFLINE]
    command = [
        executable,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=30000",
        *blocked,
        "--dump-dom",
        url,
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert finished.stdout, f"chromium printed no page; it said: {finished.stderr[-2000:]}"
    return finished.stdout


@pytest.mark.slow
def test_swagger_ui_and_redoc_render_predict_without_a_network(
    project: Project, tmp_path: Path
) -> None:
    stock = FastAPI()  # FastAPI's own /docs, from the CDN: the control

    @stock.post("/predict", summary=SUMMARY)
    def predict() -> dict[str, str]:
        return {}

    with running(create_app(project, model=fitted_model(project.root))) as url:
        swagger = rendered(f"{url}/docs", tmp_path / "swagger")
        redoc = rendered(f"{url}/redoc", tmp_path / "redoc")
    with running(stock) as url:
        blank = rendered(f"{url}/docs", tmp_path / "stock")

    assert "opblock-post" in swagger and 'data-path="/predict"' in swagger
    assert SUMMARY in swagger
    assert SUMMARY in redoc and "/predict" in redoc
    assert "opblock" not in blank and SUMMARY not in blank, "the network was not blocked"


def test_the_example_of_a_date_pattern_is_one_the_steps_can_read(
    tmp_path: Path, record: dict[str, object]
) -> None:
    # A day written YYYY/MM/DD, checked by a pattern and read by a step: "0000/00/00" fits
    # the pattern, yet the step cannot read it.
    project = toy_variant(
        tmp_path,
        contracts=(
            "    temperature_c: float = Field(ge=-40, le=150)\n",
            "    temperature_c: float = Field(ge=-40, le=150)\n"
            '    day: str = Field(pattern=r"^\\d{4}/\\d{2}/\\d{2}$")\n',
        ),
        steps=(
            'return readings.assign(hot=readings["temperature_c"] > 80)',
            'pd.to_datetime(readings["day"], format="%Y/%m/%d")\n'
            '    return readings.assign(hot=readings["temperature_c"] > 80)',
        ),
    )
    with running(create_app(project, model=fitted_model(tmp_path))) as url:
        document = httpx.get(f"{url}/openapi.json").json()
        body = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
        examples = [example["value"] for example in body["examples"].values()]
        answers = [httpx.post(f"{url}/predict", json=example) for example in examples]

    assert examples[0]["day"] != "0000/00/00"
    assert [answer.status_code for answer in answers] == [200, 200], answers[0].text
