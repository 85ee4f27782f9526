"""Programs and agents on the real ``python app.py`` server: ``/classify_images`` (a whole task in one JSON
request) through gradio_client, and the same as an MCP tool through the ``mcp`` client over streamable HTTP.
Both give the Python API's probabilities."""

from __future__ import annotations

import ast
import asyncio

import numpy as np
import pytest
from gradio_client import Client, handle_file

import metademo
from benchmarks.appclient import data_url

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def task(glyph_files):
    chars = list(glyph_files)
    support = [p for c in chars for p in glyph_files[c][:3]]
    labels = [c for c in chars for _ in range(3)]
    queries = [glyph_files[c][3] for c in chars]
    return support, labels, queries


def _api_probabilities(algorithm, support, labels, queries, steps=None):
    return metademo.load_pretrained(algorithm).fit(support, labels, steps=steps).predict_proba(queries)


def test_classify_images_gives_the_api_answer_and_the_classify_answer(app_server, task):
    support, labels, queries = task
    client = Client(app_server.url, verbose=False)  # default settings
    for algorithm, steps in (("protonet", None), ("maml", 2)):
        out = client.predict([data_url(p) for p in support], labels, [data_url(p) for p in queries], algorithm,
                             steps, None, api_name="/classify_images")
        expected = _api_probabilities(algorithm, support, labels, queries, steps)
        np.testing.assert_allclose(out["probabilities"], expected, rtol=1e-6, atol=1e-9)
        assert out["classes"] == sorted(set(labels)) and out["algorithm"] == algorithm
        by_files = client.predict(algorithm, [handle_file(p) for p in support], labels,
                                  [handle_file(p) for p in queries], steps, None, api_name="/classify")
        assert by_files == out


def test_classify_images_names_the_bad_image(app_server, task):
    support, labels, queries = task
    client = Client(app_server.url, verbose=False)
    urls = [data_url(p) for p in support]
    cases = [
        (urls[:2] + ["data:image/png;base64,bm90IGFuIGltYWdl"] + urls[3:], "Support image 3: the image data is not"),
        (urls[:3] + [support[3]] + urls[4:], "Support image 4: expected a data URL"),
        (urls, "query_images: give a list"),
    ]
    for support_images, message in cases:
        query_images = [] if "query_images" in message else [data_url(queries[0])]
        with pytest.raises(Exception, match="(?i)" + message) as e:
            client.predict(support_images, labels, query_images, "protonet", None, None,
                           api_name="/classify_images")
        assert "Traceback" not in str(e.value)


async def _mcp_session(url: str, work):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(url) as (read, write, _), ClientSession(read, write) as session:
        await session.initialize()
        return await work(session)


def test_mcp_tool_gives_the_api_probabilities(app_server, task):
    """An agent lists the tools, finds classify_images with its arguments described, calls it."""
    support, labels, queries = task
    mcp_url = app_server.url.rstrip("/") + "/gradio_api/mcp/"

    async def work(session):
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert "classify_images" in tools, list(tools)
        tool = tools["classify_images"]
        assert tool.description.startswith("Few-shot classification")
        props = tool.inputSchema["properties"]
        assert set(tool.inputSchema["required"]) == {"support_images", "support_labels", "query_images"}
        assert "data URL" in props["support_images"]["description"] and props["algorithm"]["default"] == "protonet"
        assert "maml" in props["algorithm"]["description"]
        return await session.call_tool("classify_images", {
            "support_images": [data_url(p) for p in support], "support_labels": labels,
            "query_images": [data_url(p) for p in queries], "algorithm": "maml", "steps": 2})

    result = asyncio.run(_mcp_session(mcp_url, work))
    assert not result.isError, result.content
    answer = ast.literal_eval(result.content[0].text)  # Gradio writes the dict as Python literals
    np.testing.assert_allclose(answer["probabilities"], _api_probabilities("maml", support, labels, queries, 2),
                               rtol=1e-6, atol=1e-9)
    assert answer["predictions"] == [answer["classes"][i] for i in np.argmax(answer["probabilities"], 1)]
