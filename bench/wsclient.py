"""A light DL Explorer client: Streamlit's own websocket protocol, spoken without a browser.

A light session costs the server what a Chromium session costs (the same HTTP requests on a page load,
real script runs with the same widget states, the forward-message cache, fragment auto-reruns) and costs
the client almost nothing: no layout, no charts, no JavaScript. bench/load.py runs many of them beside a
few Chromium sessions, because on 2 cores Chromium itself would starve the server it measures.

What Chromium does (Streamlit 1.67, read from its frontend bundle and checked frame by frame against
Chromium in tests/browser/test_wsclient.py), and this client repeats:

- a page load (`page.goto`) is a new session: `GET /<page>?<query>`; in a fresh browser context the entry
  bundle from index.html and /favicon.png; `GET /<page>/_stcore/health` and `/<page>/_stcore/host-config`
  (the frontend tries the address as the app's base path first: 404s); `GET /_stcore/health` (sets the
  `_streamlit_xsrf` cookie) and `/_stcore/host-config`; then a websocket to `/_stcore/stream` with the
  subprotocols `streamlit, <xsrf token>`, the page's Origin and every cookie it holds (behind
  bench/replicas.py's nginx that includes `dlx_route`, which pins the session to one replica);
- its first BackMsg is `rerun_script` with `page_name` = the address below the app root ("" for the
  default page, "activations" for /activations), `page_script_hash` = "" and no widget states;
  `context_info.url` is the address without its query string;
- later reruns name the page by `page_script_hash` (from the `navigation` message: `new_session` carries
  the main script's hash) with `page_name` = "", and carry the state of *every* widget on the page with
  a state: as set on mount (the value the server sent when `set_value`, else the proto's default; an empty
  file list for a file uploader; nothing for buttons) or as the user last changed it. (Sending only the
  moved widget gives the same page, since the server keeps the others in session state, but it is not
  what the browser sends);
- moving a bound widget (`query_param_key`) writes its value into the query string, as JavaScript's
  String() writes it, or removes it when it equals the default; every rerun sends the query string;
  `page_info_changed` replaces it (the app edits `st.query_params`);
- `new_element` deltas flagged `cacheable` are kept by hash and claimed in `cached_message_hashes`; the
  server then sends a `ref_hash` in their place, never for a hash not claimed (`cache=False` claims
  none); an entry unused for `max_cached_message_age` finished runs goes;
- a download button's file is fetched when it appears (in the background, after the timing);
- `auto_rerun` starts a timer sending fragment reruns (`fragment_id`, `is_auto_rerun`) every `interval`
  seconds; `stop_auto_rerun`, or the next full run's `new_session`, stops it;
- a rerun ends at its `script_finished` FINISHED_SUCCESSFULLY (FINISHED_WITH_COMPILE_ERROR: a failure);
  FINISHED_EARLY_FOR_RERUN (an `st.rerun()`) and fragment runs do not end it; nor does the session going
  idle unless the run had begun (see RerunEnd: the server can replace a full run without its
  script_finished; such reruns are counted in `unfinished`). No end within `timeout` is a failure. Other ForwardMsgs (page_config_changed, session_status_changed, page_profile, logo, ...)
  change nothing a light client keeps.

Not repeated: the ~150 lazily loaded JavaScript chunks and fonts a fresh browser context fetches once
(immutable-cached static files, about 11 MB, a fraction of a second of server time), and the browser's
own rendering. An arrow key at an end of a slider's range changes nothing and Chromium sends no rerun;
`move_slider` steps the other way instead, so that every move measures a rerun.

    client = LightClient("http://127.0.0.1:8501")
    await client.open("activations")             # seconds from the page request to script_finished
    await client.move_slider("act_depth", +1)    # one step right; seconds until script_finished
    client.slider_value("act_depth"), client.texts(), client.failures
    await client.close()
"""
from __future__ import annotations

import asyncio
import math
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

SUCCESS = ForwardMsg.FINISHED_SUCCESSFULLY
COMPILE_ERROR = ForwardMsg.FINISHED_WITH_COMPILE_ERROR
EARLY = ForwardMsg.FINISHED_EARLY_FOR_RERUN
FRAGMENT_DONE = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
IDLE_UNFINISHED = -1  # the session went idle after the run started, without that run's script_finished
STATUS = {**{v: k for k, v in ForwardMsg.ScriptFinishedStatus.items()}, IDLE_UNFINISHED: "IDLE_WITHOUT_SCRIPT_FINISHED"}
WIDGETS = {"slider", "checkbox", "radio", "selectbox", "multiselect", "number_input", "text_input", "text_area",
           "button_group", "color_picker", "file_uploader", "button", "download_button", "date_input",
           "time_input", "date_time_input", "chat_input", "camera_input", "audio_input", "feedback",
           "menu_button", "pagination"}
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# HTTP requests run in threads, as many at once as a class of browsers would make (asyncio's default pool is 6)
_HTTP_POOL = ThreadPoolExecutor(max_workers=48, thread_name_prefix="light-http")


def js_number(value: float) -> str:
    """A number as JavaScript's String() writes it (what the frontend puts in the URL)."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def user_key(widget_id: str) -> str | None:
    """The user key inside a widget id (`$$ID-<hash>-<key>`); None for a widget without one."""
    parts = widget_id.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "$$ID" and parts[2] != "None" else None


@dataclass
class Widget:
    """A widget the server drew in the current page, as the client tracks it."""

    id: str
    kind: str  # the Element field: slider, checkbox, selectbox, ...
    key: str | None
    proto: Any  # the widget's element proto (Slider, Checkbox, ...)
    run: str  # script run that drew it last
    fragment: str  # fragment that drew it ("" outside fragments)

    @property
    def select_slider(self) -> bool:
        return self.kind == "slider" and (self.proto.type == self.proto.SELECT_SLIDER or len(self.proto.options) > 0)


@dataclass
class Visit:
    """What one page load or rerun produced."""

    status: str = ""
    seconds: float = float("nan")
    exceptions: list[str] = field(default_factory=list)
    page_not_found: bool = False


def state_from_proto(kind: str, el: Any) -> WidgetState | None:
    """The WidgetState the frontend stores when the widget mounts (None: it stores nothing, e.g. a button)."""
    ws = WidgetState(id=el.id)
    if kind == "slider":
        if el.type == el.SELECT_SLIDER or el.options:  # select_slider: the option labels
            labels = list(el.raw_value) if el.set_value else [el.options[int(i)] for i in el.default]
            ws.string_array_value.data[:] = labels
        else:
            ws.double_array_value.data[:] = list(el.value if el.set_value else el.default)
    elif kind == "checkbox":
        ws.bool_value = el.value if el.set_value else el.default
    elif kind in ("radio", "selectbox"):
        if el.set_value:
            if not el.HasField("raw_value"):
                return None
            ws.string_value = el.raw_value
        elif el.HasField("default") and 0 <= el.default < len(el.options):
            ws.string_value = el.options[el.default]
        else:
            return None
    elif kind in ("multiselect", "button_group"):
        values = list(el.raw_values) if el.set_value else [el.options[int(i)] if kind == "multiselect"
                                                           else _option_text(el.options[int(i)]) for i in el.default]
        ws.string_array_value.data[:] = values
    elif kind == "number_input":
        if el.set_value:
            if not el.HasField("value"):
                return None
            value = el.value
        elif el.HasField("default"):
            value = el.default
        else:
            return None
        if el.data_type == type(el).INT:
            ws.int_value = int(value)
        else:
            ws.double_value = value
    elif kind == "color_picker":
        ws.string_value = el.value if el.set_value else el.default
    elif kind in ("text_input", "text_area"):
        if el.set_value:
            if not el.HasField("value"):
                return None
            ws.string_value = el.value
        elif el.HasField("default"):
            ws.string_value = el.default
        else:
            return None
    elif kind == "file_uploader":
        ws.file_uploader_state_value.SetInParent()  # an empty list of uploaded files, set on mount
    else:
        return None  # buttons and the rest: nothing until the user acts
    return ws


def _option_text(option: Any) -> str:
    return getattr(option, "content", str(option))


class RerunEnd:
    """When a full rerun asked for now has ended, told from the ForwardMsgs that follow it: the light client
    feeds it its messages, bench/load.py's Chromium sessions their websocket's frames.

    The end is the run's script_finished FINISHED_SUCCESSFULLY or FINISHED_WITH_COMPILE_ERROR, after a full
    run's new_session (fragment runs and st.rerun()'s FINISHED_EARLY_FOR_RERUN do not end it); or, as
    Chromium's "notRunning", `session_status_changed` saying the script stopped, after the run began and not
    for a rerun: under load, with fast reruns, a fragment's st.rerun() and auto-reruns, the server can
    replace a full run without ever sending its script_finished (seen on the Initialization page)."""

    def __init__(self) -> None:
        self.future: asyncio.Future | None = None
        self.at = float("nan")  # perf_counter() when the end arrived
        self._started = False
        self._last: int | None = None

    def expect(self) -> asyncio.Future:
        """Call just before asking for the rerun; the future's result is the end's status."""
        self.future, self._started, self._last = asyncio.get_running_loop().create_future(), False, None
        return self.future

    @property
    def waiting(self) -> bool:
        return self.future is not None and not self.future.done()

    def _end(self, status: int) -> None:
        self.at = time.perf_counter()
        self.future.set_result(status)

    def feed(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session" and not msg.metadata.run.fragment_ids:
            self._started = True
        elif kind == "script_finished":
            self._last = msg.script_finished
            if self._last in (SUCCESS, COMPILE_ERROR) and self._started and self.waiting:
                self._end(self._last)
        elif kind == "session_status_changed" and not msg.session_status_changed.script_is_running:
            if self._started and self._last != EARLY and self.waiting:
                self._end(IDLE_UNFINISHED)

    def fail(self, err: Exception) -> None:
        if self.waiting:
            self.future.set_exception(err)


class LightClient:
    """One session of the app over Streamlit's websocket; see the module docstring."""

    def __init__(self, base: str, timeout: float = 120.0, fetch_assets: bool = True, cache: bool = True) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.fetch_assets = fetch_assets
        self.cache_enabled = cache
        self.cookies: dict[str, str] = {}
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.url_path = ""
        self.query_string = ""
        self.page_script_hash = ""
        self.pages: dict[str, str] = {}  # url path -> page script hash, from the navigation message
        self.widgets: dict[str, Widget] = {}  # by id: widgets in the current page
        self.values: dict[str, WidgetState] = {}  # by id: what the frontend's widget manager holds
        self.texts_by_path: dict[tuple, tuple[str, str, str]] = {}  # delta path -> (run, fragment, text)
        self.cache: dict[str, list] = {}  # hash -> [serialized ForwardMsg, run count when last used, fragment id]
        self.run_count = 0
        self.max_age = 2
        self.run_id = ""
        self.failures: list[str] = []
        self.last_state: ClientState | None = None
        self.counts: dict[str, int] = {}
        self.ref_hits = 0
        self.auto_reruns = 0  # fragment reruns sent by auto_rerun timers
        self.assets_fetched = False
        self.http_log: list[tuple[str, int]] = []  # (path, HTTP status) of every request, in order
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}
        self._end = RerunEnd()
        self.unfinished = 0  # reruns that ended idle without their own script_finished (see RerunEnd)
        self._visit = Visit()
        self._media_seen: set[str] = set()  # media URLs this page load already fetched
        self._media_new: list[str] = []
        self._background: set[asyncio.Task] = set()

    # ------------------------------------------------------------ HTTP, as a page load does it
    def _get(self, path: str) -> bytes:
        headers = {"Accept-Encoding": "gzip, deflate, br", "User-Agent": "dlx-light-client"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(f"{self.base}{path}", headers=headers)
        try:
            with _NO_PROXY.open(request, timeout=self.timeout) as response:
                body, status = response.read(), response.status
                set_cookies = response.headers.get_all("Set-Cookie") or []
        except urllib.error.HTTPError as err:
            body, status, set_cookies = err.read(), err.code, err.headers.get_all("Set-Cookie") or []
        self.http_log.append((path, status))
        for header in set_cookies:
            jar = SimpleCookie()
            jar.load(header)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        return body

    def _page_load(self, address: str) -> None:
        """The requests of a page load before the websocket opens, in the browser's order."""
        html = self._get(address)
        if self.fetch_assets and not self.assets_fetched:  # a fresh browser context fetches the entry bundle once
            self.assets_fetched = True
            for asset in re.findall(rb'(?:src|href)="\.?(/static/[^"]+)"', html):
                self._get(asset.decode())
            self._get("/favicon.png")
        if self.url_path:  # the frontend first tries the address itself as the app's base path (404s)
            self._get(f"/{self.url_path}/_stcore/health")
            self._get(f"/{self.url_path}/_stcore/host-config")
        self._get("/_stcore/health")  # sets the _streamlit_xsrf cookie
        self._get("/_stcore/host-config")

    def _fetch_media(self, urls: list[str]) -> None:
        for url in urls:
            self._get(url if url.startswith("/") else f"/{url}")

    # ------------------------------------------------------------ the websocket
    async def _connect(self) -> None:
        xsrf = self.cookies.get("_streamlit_xsrf") or "PLACEHOLDER_AUTH_TOKEN"
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else None
        ws_base = "ws" + self.base[len("http"):]
        self.ws = await connect(f"{ws_base}/_stcore/stream", subprotocols=["streamlit", xsrf], origin=self.base,
                                additional_headers=headers, max_size=None, proxy=None, open_timeout=self.timeout,
                                user_agent_header="dlx-light-client")
        self.reader = asyncio.create_task(self._read(self.ws))

    async def _disconnect(self) -> None:
        self._stop_timers()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)
            self.reader = None

    async def close(self) -> None:
        await self._disconnect()

    async def _read(self, ws) -> None:
        try:
            async for data in ws:
                msg = ForwardMsg()
                try:
                    msg.ParseFromString(data)
                    self._handle(msg, data)
                except Exception as err:  # noqa: BLE001 - a client bug must not pass for a slow server
                    self.failures.append(f"{self.url_path or 'home'}: client could not handle a message: "
                                         f"{type(err).__name__}: {err}")
        except ConnectionClosed:
            pass
        finally:
            self._end.fail(ConnectionError("websocket closed by the server"))

    # ------------------------------------------------------------ ForwardMsgs
    def _handle(self, msg: ForwardMsg, data: bytes) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self.cache.get(msg.ref_hash)
            if cached is None:
                self.failures.append(f"{self.url_path or 'home'}: cache miss for a ref_hash the client never claimed")
                return
            cached[1] = self.run_count
            self.ref_hits += 1
            full = ForwardMsg()
            full.ParseFromString(cached[0])
            full.metadata.CopyFrom(msg.metadata)
            msg, kind = full, full.WhichOneof("type")
        elif self.cache_enabled and msg.metadata.cacheable and msg.hash:
            if msg.hash in self.cache:
                self.cache[msg.hash][1] = self.run_count
            else:
                self.cache[msg.hash] = [data, self.run_count, msg.delta.fragment_id]
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "new_session":
            ns = msg.new_session
            self.page_script_hash = ns.page_script_hash
            self.max_age = ns.config.max_cached_message_age or self.max_age
            self.run_id = msg.metadata.run.script_run_id
            if not msg.metadata.run.fragment_ids:  # a full run: the frontend drops its auto-rerun timers
                self._stop_timers()
        elif kind == "navigation":  # st.navigation resolved the page: later reruns name it by this hash
            self.page_script_hash = msg.navigation.page_script_hash
            self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
        elif kind == "delta":
            self._delta(msg)
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "page_not_found":
            self._visit.page_not_found = True
        elif kind == "auto_rerun":
            self._start_timer(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment in msg.stop_auto_rerun.fragment_ids:
                self._stop_timer(fragment)
        elif kind == "session_event":
            event = msg.session_event.WhichOneof("type")
            if event == "script_compilation_exception":
                self._exception(f"compile error: {msg.session_event.script_compilation_exception.message}")
        elif kind == "script_finished":
            self._finished(msg)
        # page_config_changed, logo, page_profile, git_info_changed, parent_message, heartbeat_ack, ...:
        # nothing a light client draws or answers; session_status_changed (and the above) may end a rerun
        self._end.feed(msg)

    def _delta(self, msg: ForwardMsg) -> None:
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        path = tuple(msg.metadata.delta_path)
        run = msg.metadata.run.script_run_id or self.run_id
        if kind == "exception":  # an uncaught exception shown in the page (type and message redacted
            # when client.showErrorDetails is "none", as in this app's config)
            self._exception(": ".join(x for x in (el.exception.type, el.exception.message) if x))
        if kind in WIDGETS:
            w = getattr(el, kind)
            self.widgets[w.id] = Widget(w.id, kind, user_key(w.id), w, run, delta.fragment_id)
            if w.id not in self.values or getattr(w, "set_value", False):
                state = state_from_proto(kind, w)
                if state is not None:
                    self.values[w.id] = state
        urls = [el.download_button.url] if kind == "download_button" and not el.download_button.deferred_file_id else (
            [img.url for img in el.imgs.imgs] if kind == "imgs" else [])
        for url in urls:  # the browser fetches a download button's file on mount (and an image's)
            if url and url not in self._media_seen:
                self._media_seen.add(url)
                self._media_new.append(url)
        text = _element_text(el, kind)
        if text is not None:
            self.texts_by_path[path] = (run, delta.fragment_id, text)

    def _exception(self, text: str) -> None:
        self._visit.exceptions.append(text)
        self.failures.append(f"{self.url_path or 'home'}: exception: {text[:200]}")

    def _finished(self, msg: ForwardMsg) -> None:
        status = msg.script_finished
        run = msg.metadata.run.script_run_id or self.run_id
        fragments = set(msg.metadata.run.fragment_ids)
        if status in (SUCCESS, COMPILE_ERROR, FRAGMENT_DONE):
            # the frontend clears elements (and their widgets' states) the run did not draw again
            stale = (lambda r, f: r != run) if status != FRAGMENT_DONE else (lambda r, f: f in fragments and r != run)
            self.widgets = {i: w for i, w in self.widgets.items() if not stale(w.run, w.fragment)}
            self.values = {i: v for i, v in self.values.items() if i in self.widgets}
            self.texts_by_path = {p: t for p, t in self.texts_by_path.items() if not stale(t[0], t[1])}
        if status != EARLY:  # the frontend ages its cache by finished runs (a fragment's run: that fragment's entries)
            self.run_count += 1
            self.cache = {h: c for h, c in self.cache.items()
                          if self.run_count - c[1] <= self.max_age or (fragments and c[2] not in fragments)}

    # ------------------------------------------------------------ fragment timers
    def _start_timer(self, fragment: str, interval: float) -> None:
        if not fragment or (fragment in self._timers and self._timers[fragment][0] == interval):
            return
        self._stop_timer(fragment)

        async def tick() -> None:
            while True:
                await asyncio.sleep(interval)
                self.auto_reruns += 1
                await self._send_rerun(fragment_id=fragment, auto=True)

        self._timers[fragment] = (interval, asyncio.create_task(tick()))

    def _stop_timer(self, fragment: str) -> None:
        timer = self._timers.pop(fragment, None)
        if timer is not None:
            timer[1].cancel()

    def _stop_timers(self) -> None:
        for fragment in list(self._timers):
            self._stop_timer(fragment)

    # ------------------------------------------------------------ BackMsgs
    def _client_state(self, first: bool) -> ClientState:
        state = ClientState(
            query_string=self.query_string,
            page_script_hash="" if first else self.page_script_hash,
            page_name=self.url_path if first else "",
            context_info=ContextInfo(timezone="UTC", timezone_offset=0, locale="en-US", is_embedded=False,
                                     url=f"{self.base}/{self.url_path}", color_scheme="light"),
        )
        if not first:
            state.widget_states.widgets.extend(self.values[i] for i in self.widgets if i in self.values)
        if self.cache_enabled:
            state.cached_message_hashes.extend(self.cache)
        return state

    async def _send_rerun(self, first: bool = False, fragment_id: str = "", auto: bool = False) -> None:
        if self.ws is None:
            return
        state = self._client_state(first)
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        if not fragment_id:
            self.last_state = state  # what the last full rerun asked for (the tests read it)
        try:
            await self.ws.send(BackMsg(rerun_script=state).SerializeToString())
        except ConnectionClosed:
            pass

    async def _rerun(self, first: bool = False) -> float:
        """Send a full rerun and wait for its script_finished; seconds from send to finish."""
        self._visit = Visit()
        end = self._end.expect()
        t = time.perf_counter()
        await self._send_rerun(first=first)
        if self.reader is None or self.reader.done():
            raise ConnectionError(f"websocket closed before a rerun of {self.url_path or 'home'}")
        try:
            status = await asyncio.wait_for(end, self.timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no script_finished within {self.timeout:.0f} s on {self.url_path or 'home'}") from None
        self._visit.seconds = self._end.at - t
        self._visit.status = STATUS[status]
        self.unfinished += status == IDLE_UNFINISHED
        if self._media_new and self.fetch_assets:  # in the background, as the browser does, after the timing
            task = asyncio.ensure_future(
                asyncio.get_running_loop().run_in_executor(_HTTP_POOL, self._fetch_media, self._media_new))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        self._media_new = []
        if status == COMPILE_ERROR:
            self.failures.append(f"{self.url_path or 'home'}: script finished with a compile error")
        return self._visit.seconds

    # ------------------------------------------------------------ what a user does
    async def open(self, url_path: str, query_string: str = "") -> float:
        """Load a page as a browser's address bar does (a new session on a new websocket); seconds from
        the HTTP request to the first script run's end."""
        await self._disconnect()
        self.url_path, self.query_string = url_path.strip("/"), query_string.lstrip("?")
        self.page_script_hash, self.widgets, self.values, self.texts_by_path = "", {}, {}, {}
        self.cache, self.run_count = {}, 0  # the frontend's cache lives in the page's memory
        self._media_seen, self._media_new = set(), []
        t = time.perf_counter()
        address = f"/{self.url_path}" + (f"?{self.query_string}" if self.query_string else "")
        await asyncio.get_running_loop().run_in_executor(_HTTP_POOL, self._page_load, address)
        await self._connect()
        await self._rerun(first=True)
        return time.perf_counter() - t

    def slider(self, key: str) -> Widget:
        found = [w for w in self.widgets.values() if w.kind == "slider" and w.key == key]
        if not found:
            raise KeyError(f"no slider with key {key!r} on {self.url_path or 'home'}")
        return found[0]

    def slider_value(self, key: str) -> Any:
        """The value the client holds for a slider: a number, or an option label for a select_slider."""
        w = self.slider(key)
        state = self.values[w.id]
        return state.string_array_value.data[0] if w.select_slider else state.double_array_value.data[0]

    async def move_slider(self, key: str, direction: int) -> float:
        """One step right (+1) or left (-1), as an arrow key does; seconds until the rerun ends.

        At an end of the range the step goes the other way: an arrow key there changes nothing and the
        browser sends no rerun at all, which would measure nothing."""
        w = self.slider(key)
        el, state = w.proto, WidgetState(id=w.id)
        if w.select_slider:
            options = list(el.options)
            index = options.index(self.slider_value(key))
            if not 0 <= index + direction < len(options):
                direction = -direction
            new = options[index + direction]
            state.string_array_value.data[:] = [new]
            shown, default = [new], [el.options[int(i)] for i in el.default]
        else:
            current = self.slider_value(key)
            if not el.min <= round(current + direction * el.step, 10) <= el.max:
                direction = -direction
            value = round(current + direction * el.step, 10)
            if el.data_type in (el.INT, el.DATE, el.DATETIME, el.TIME):
                value = float(round(value))
            if not el.min <= value <= el.max or value == current:
                raise ValueError(f"slider {key!r} cannot move one step from {current} within [{el.min}, {el.max}]")
            state.double_array_value.data[:] = [value]
            shown, default = [js_number(value)], [js_number(v) for v in el.default]
        self.values[w.id] = state
        if el.HasField("query_param_key"):  # a bound widget writes its value into the address
            self._set_query_param(el.query_param_key, None if shown == default else shown)
        return await self._rerun()

    def _set_query_param(self, key: str, values: list[str] | None) -> None:
        params = [(k, v) for k, v in urllib.parse.parse_qsl(self.query_string, keep_blank_values=True) if k != key]
        if values is not None:
            params += [(key, v) for v in values]
        self.query_string = urllib.parse.urlencode(params)

    def texts(self) -> list[str]:
        """The text of the page's markdown, headings, alerts, captions, code and metrics, in page order."""
        return [t[2] for _, t in sorted(self.texts_by_path.items())]

    @property
    def last(self) -> Visit:
        return self._visit


def _element_text(el: Any, kind: str) -> str | None:
    if kind in ("markdown", "heading", "text"):
        return getattr(el, kind).body
    if kind == "code":
        return el.code.code_text
    if kind == "alert":
        return el.alert.body
    if kind == "metric":
        return f"{el.metric.label}: {el.metric.body}"
    if kind == "exception":
        return ": ".join(x for x in (el.exception.type, el.exception.message) if x)
    return None


# ---------------------------------------------------------------- the bench's session plan
async def light_session(base: str, i: int, pages: list, log: dict, timeout: float = 120.0) -> None:
    """bench/load.py's `_session` without a browser: the same 3 pages, each page's main slider moved 4 times
    (right, left, right, left), rerun seconds into log["reruns"], failures into log["failures"], reruns that
    ended idle without their script_finished added to log["unfinished"]. No training: a light session is a
    student moving sliders; the sessions that train stay in Chromium."""
    client = LightClient(base, timeout=timeout)
    seen = 0

    def report() -> None:  # the client's own failures (exceptions in the page, ...), each once per page
        nonlocal seen
        log["failures"].extend(f"session {i} (light): {f}" for f in dict.fromkeys(client.failures[seen:]))
        seen = len(client.failures)

    try:
        plan = [p for p in pages if p.main_key]
        visits = [plan[(3 * i + k) % len(plan)] for k in range(3)]
        for info in visits:
            await client.open(info.url_path)
            for move in range(4):
                log["reruns"].append(await client.move_slider(info.main_key, 1 if move % 2 == 0 else -1))
            report()
    except Exception as err:  # noqa: BLE001 - every failure is counted and reported
        report()
        first_line = str(err).splitlines()[0][:120] if str(err) else ""
        log["failures"].append(f"session {i} (light): {type(err).__name__}: {first_line}")
    finally:
        await client.close()
        log["unfinished"] = log.get("unfinished", 0) + client.unfinished
