"""bench/wsclient.py, the light client of the class-at-once benchmark, against the real server: pages open,
a slider step reaches the script, bad links and bad addresses show their notes, an uncaught exception is
counted, the forward-message cache works, and the BackMsgs it sends are the ones Chromium sends."""
from __future__ import annotations

import asyncio
import concurrent.futures
import subprocess

import pytest

from bench.wsclient import LightClient, light_session
from streamlit.proto.BackMsg_pb2 import BackMsg
from tests.browser.conftest import free_port, start_server, wait_idle
from ui import catalog

PAGES = {p.url_path: p for p in catalog.topic_pages()}


def run(coro):
    """Run a coroutine on its own loop in its own thread (Playwright's sync API owns this thread's loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=120)


def widget_states(state) -> list[bytes]:
    return sorted(w.SerializeToString(deterministic=True) for w in state.widget_states.widgets)


@pytest.mark.parametrize(("url_path", "heading"), [("", "DL Explorer"), ("activations", "Activation functions"),
                                                   ("conv-arithmetic", "Convolution arithmetic")],
                         ids=["home", "activations", "conv-arithmetic"])
def test_pages_open_without_exception(server, url_path, heading):
    async def visit():
        client = LightClient(server, timeout=60)
        try:
            seconds = await client.open(url_path)
            return client, seconds
        finally:
            await client.close()

    client, seconds = run(visit())
    assert 0 < seconds < 60
    assert client.last.status == "FINISHED_SUCCESSFULLY" and not client.last.page_not_found
    assert client.failures == [] and client.last.exceptions == []
    assert client.page_script_hash == client.pages[url_path], "the server ran another page than the one asked for"
    assert client.texts()[0] == heading  # the page's own heading, first in the main area
    assert "_streamlit_xsrf" in client.cookies  # from /_stcore/health, sent back on the websocket
    assert (f"/{url_path}", 200) in client.http_log and ("/_stcore/health", 200) in client.http_log
    if url_path:
        key = PAGES[url_path].main_key
        slider = client.slider(key).proto
        assert slider.min <= client.slider_value(key) <= slider.max


def test_slider_step_reaches_the_script(server):
    """act_depth 10 -> 11 -> 10: the page's text follows, the link follows, every widget's state is sent."""
    async def steps():
        client = LightClient(server, timeout=60)
        try:
            await client.open("activations")
            seen = [(client.slider_value("act_depth"), client.query_string, list(client.texts()))]
            for direction in (1, -1):
                await client.move_slider("act_depth", direction)
                seen.append((client.slider_value("act_depth"), client.query_string, list(client.texts())))
            return client, seen
        finally:
            await client.close()

    client, seen = run(steps())
    (v0, q0, t0), (v1, q1, t1), (v2, q2, t2) = seen
    assert (v0, v1, v2) == (10, 11, 10)
    assert "Through 10 layers" in t0 and "Through 11 layers" in t1 and "Through 11 layers" not in t0
    assert "Through 10 layers" in t2 and "Through 10 layers" not in t1
    assert (q0, q1, q2) == ("", "act_depth=11", "")  # a bound slider back at its default leaves the link
    sent = {w.id: w for w in client.last_state.widget_states.widgets}
    assert len(sent) == len(client.values) > 5  # all the page's widgets with a state, not only the moved one
    depth = client.slider("act_depth").id
    assert list(sent[depth].double_array_value.data) == [10.0]
    assert client.failures == []


def test_select_slider_and_the_message_cache(server):
    """mio_image_size starts at its last option, 64: a step right turns back to 48, and the page's formula
    shows 48 // 2 = 24. Large elements come back as ref_hash once claimed, never when not claimed."""
    async def steps(cache: bool):
        client = LightClient(server, timeout=60, cache=cache)
        try:
            await client.open("multi-io")
            before = client.slider_value("mio_image_size")
            await client.move_slider("mio_image_size", 1)
            return client, before
        finally:
            await client.close()

    client, before = run(steps(cache=True))
    assert (before, client.slider_value("mio_image_size"), client.query_string) == ("64", "48", "mio_image_size=48")
    text = "\n".join(client.texts())
    assert "24^2" in text and "32^2" not in text
    assert client.last_state.cached_message_hashes and client.ref_hits > 0
    assert client.failures == []
    uncached, _ = run(steps(cache=False))
    assert not uncached.last_state.cached_message_hashes and uncached.ref_hits == 0
    assert uncached.failures == [] and "24^2" in "\n".join(uncached.texts())


def test_bad_link_and_bad_address_show_notes(server):
    async def visits():
        client = LightClient(server, timeout=60)
        try:
            await client.open("activations", "act_depth=%3Cscript%3Ealert(1)%3C/script%3E")
            link = (client.slider_value("act_depth"), list(client.texts()), list(client.failures), client.last.status)
            await client.open("no-such-page")
            return client, link
        finally:
            await client.close()

    client, (depth, texts, failures, status) = run(visits())
    assert status == "FINISHED_SUCCESSFULLY" and failures == []
    assert depth == 10
    assert any("act_depth" in t and "<script>alert(1)</script>" in t and "using the default 10" in t for t in texts)
    assert client.last.page_not_found  # Streamlit's "page not found" note ...
    assert client.page_script_hash == client.pages[""]  # ... over Home
    assert client.last.status == "FINISHED_SUCCESSFULLY" and client.failures == []


def test_an_uncaught_exception_is_a_failure(tmp_path):
    app = tmp_path / "boom.py"
    app.write_text("import streamlit as st\nv = st.slider('v', 0, 10, 5, key='v')\nst.write(f'value {v}')\n"
                   "if v == 6:\n    raise ValueError('boom at six')\n")
    port = free_port()
    proc = start_server(port, env={"STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "full"}, script=str(app))

    async def steps():
        client = LightClient(f"http://127.0.0.1:{port}", timeout=30)
        try:
            await client.open("")
            clean = list(client.failures)
            await client.move_slider("v", 1)
            return client, clean
        finally:
            await client.close()

    try:
        client, clean = run(steps())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert clean == []
    assert client.last.exceptions and "boom at six" in client.last.exceptions[0]
    assert any("boom at six" in f for f in client.failures)


def test_light_session_plan(server):
    log = {"reruns": [], "failures": []}
    run(light_session(server, 0, catalog.topic_pages(), log, timeout=60))
    assert log["failures"] == []
    assert len(log["reruns"]) == 12 and all(0 < s < 60 for s in log["reruns"])


def test_same_backmsgs_as_chromium(server, page):
    """One page load and one ArrowRight on act_depth in Chromium, then the same with the light client: the
    first rerun names the page the same way, the second carries the same widget states and query string."""
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.goto(f"{server}/activations")
    wait_idle(page)
    # Every widget mounted and registered its state before the move: a slider not yet mounted is missing from
    # Chromium's next rerun (seen once in CI with the sidebar's lower sliders), which is the browser's timing,
    # not a difference between the two clients.
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stSidebar] [data-testid=stSlider]').length >= 8")
    page.wait_for_timeout(1000)
    wait_idle(page)
    page.locator(".st-key-act_depth").get_by_role("slider").press("ArrowRight")
    page.wait_for_timeout(300)
    wait_idle(page)
    reruns = []
    for payload in sent:
        msg = BackMsg()
        msg.ParseFromString(payload if isinstance(payload, bytes) else payload.encode())
        if msg.WhichOneof("type") == "rerun_script" and not msg.rerun_script.fragment_id:
            reruns.append(msg.rerun_script)
    assert len(reruns) == 2, f"Chromium sent {len(reruns)} full reruns"

    async def light():
        client = LightClient(server, timeout=60)
        try:
            await client.open("activations")
            first = client.last_state
            await client.move_slider("act_depth", 1)
            return first, client.last_state
        finally:
            await client.close()

    first, moved = run(light())
    for ours, theirs in ((first, reruns[0]), (moved, reruns[1])):
        assert (ours.page_name, ours.page_script_hash, ours.query_string, ours.fragment_id) == \
               (theirs.page_name, theirs.page_script_hash, theirs.query_string, theirs.fragment_id)
        assert ours.context_info.url == theirs.context_info.url
        assert widget_states(ours) == widget_states(theirs)
    assert reruns[0].page_name == "activations" and not reruns[0].page_script_hash
    assert reruns[1].query_string == "act_depth=11" and reruns[1].page_script_hash


def test_when_a_rerun_ends():
    """Without a server: a rerun ends at its script_finished, not at an st.rerun()'s early finish nor at a
    fragment's; and when the server goes idle after the run began without finishing it (a replaced run),
    it ends there too, as Chromium's "notRunning" does. (Chromium's own sessions in bench/load.py use it.)"""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    from bench import wsclient

    def start(fragment: str = "") -> ForwardMsg:
        msg = ForwardMsg()
        msg.new_session.page_script_hash = "page"
        msg.metadata.run.script_run_id = "run"
        if fragment:
            msg.metadata.run.fragment_ids.append(fragment)
        return msg

    def finish(status: int, fragment: str = "") -> ForwardMsg:
        msg = ForwardMsg(script_finished=status)
        if fragment:
            msg.metadata.run.fragment_ids.append(fragment)
        return msg

    def running(flag: bool) -> ForwardMsg:
        msg = ForwardMsg()
        msg.session_status_changed.script_is_running = flag
        return msg

    async def outcome(messages: list[ForwardMsg]):
        end = wsclient.RerunEnd()
        future = end.expect()
        for msg in messages:
            end.feed(msg)
        return future.result() if future.done() else None

    ok, early, frag = wsclient.SUCCESS, wsclient.EARLY, wsclient.FRAGMENT_DONE
    assert run(outcome([start(), running(True), finish(ok), running(False)])) == ok
    assert run(outcome([running(False)])) is None  # an earlier run going idle before ours began
    assert run(outcome([start("f"), finish(frag, "f"), running(False)])) is None  # a fragment run only
    assert run(outcome([start(), finish(early), running(False)])) is None  # st.rerun(): another run follows
    assert run(outcome([start(), finish(early), running(False), start(), finish(ok)])) == ok
    assert run(outcome([start(), start("f"), finish(frag, "f"), running(False)])) == wsclient.IDLE_UNFINISHED


def test_a_cold_server_survives_sessions_opening_torchmetrics_pages_at_once():
    """Right after a start, four sessions open pages whose modules import torchmetrics' classification and regression
    metrics at the same moment; then a session opens them again. Before the warm-up imported all of core, two
    first imports at once failed ("partially initialized module") and left torchmetrics broken for every later run."""
    paths = ["multi-io", "regression-metrics", "classification-metrics", "training"]
    port = free_port()
    proc = start_server(port)
    base = f"http://127.0.0.1:{port}"

    async def visit(path):
        client = LightClient(base, timeout=90)
        try:
            await client.open(path)
            return path, client.last.status, client.last.exceptions, client.failures
        finally:
            await client.close()

    async def together():
        return await asyncio.gather(*(visit(p) for p in paths))

    async def one_by_one():
        return [await visit(p) for p in paths]

    try:
        for results in (run(together()), run(one_by_one())):
            assert [r for r in results if r[1] != "FINISHED_SUCCESSFULLY" or r[2] or r[3]] == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "Uncaught app execution" not in open(proc.log).read()
