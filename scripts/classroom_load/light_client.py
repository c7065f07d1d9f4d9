"""A pupil without a browser: one Streamlit session driven over Streamlit's own websocket protocol.

In a classroom every pupil's page is drawn by their own device; on one test machine twenty Chromiums drawing their
pages take most of the cores the server needs (see ``load_test.py``). A light session asks the server exactly what
the browser asks (the page, then a rerun with a widget's new value, or an upload through the upload endpoint) and
reads the server's answer (the page's elements as protobuf messages) without drawing anything, so the seconds it
measures are the server's: from asking to the reading's element arriving.

It understands only what Try it out needs: markdown, alerts, exceptions, a selectbox, a radio and a file uploader.
"""

import asyncio
import http.cookiejar
import time
import urllib.request
import uuid
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from classroom_load.sessions import Reading, open_then_wait, run_as_result, task_label

ERROR_FORMAT = 1  # Alert.Format.ERROR


@dataclass
class PageState:
    """What the server has sent since the last question: texts, problems, whether the script run finished."""

    texts: list[str] = field(default_factory=list)  # markdown bodies and alert bodies, in arrival order
    problems: list[str] = field(default_factory=list)  # error alerts and exceptions
    media: list[str] = field(default_factory=list)  # the URLs of images and videos
    finished: bool = False


def widget_key(widget_id: str) -> str:
    """A widget's user key from its id ("$$ID-<hash>-clip" → "clip")."""
    return widget_id.rsplit("-", 1)[-1] if widget_id.startswith("$$ID") else widget_id


class LightSession:
    """One websocket session on ``page_name`` of the app at ``base_url`` (http://host:port)."""

    def __init__(self, base_url: str, page_name: str):
        self.base_url, self.page_name = base_url, page_name
        self.state = PageState()
        self.session_id = None
        self.page_script_hash = ""
        self.widgets: dict[str, object] = {}  # user key → the widget's latest element (selectbox, radio, uploader)
        self.widget_values: dict[str, dict] = {}  # widget id → WidgetState fields, sent with every rerun
        self._socket = None
        self._reader = None
        self._changed = asyncio.Event()
        self._file_urls: dict[str, object] = {}
        self._cookies = http.cookiejar.CookieJar()

    async def open(self) -> None:
        """Connect and ask for the page, as a browser opening its address does."""
        from websockets.asyncio.client import connect

        await asyncio.to_thread(self._fetch_xsrf_cookie)
        ws_url = self.base_url.replace("http", "ws", 1) + "/_stcore/stream"
        self._socket = await connect(ws_url, subprotocols=["streamlit"], max_size=2**28,
                                     additional_headers={"Origin": self.base_url})
        self._reader = asyncio.create_task(self._read_messages())
        await self.rerun()

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    # ------------------------------------------------------------ asking

    async def rerun(self) -> None:
        """Ask for a rerun with the current widget values (what the browser does after any widget changes)."""
        self.state = PageState()
        message = BackMsg()
        client_state = message.rerun_script
        client_state.page_script_hash = self.page_script_hash
        client_state.page_name = self.page_name
        for widget_id, value in self.widget_values.items():
            widget = client_state.widget_states.widgets.add()
            widget.id = widget_id
            for name, content in value.items():
                if name == "file_uploader_state_value":
                    widget.file_uploader_state_value.CopyFrom(content)
                else:
                    setattr(widget, name, content)
        await self._socket.send(message.SerializeToString())

    async def choose(self, key: str, label_part: str) -> None:
        """Choose the first option of the selectbox or radio with user key ``key`` whose label contains
        ``label_part``, and rerun. Raises LookupError when there is no such widget or option."""
        element = self.widgets[key]
        options = [option for option in element.options if label_part in option]
        if not options:
            raise LookupError(f"no option of {key!r} contains {label_part!r} (e.g. {list(element.options)[:2]})")
        self.widget_values[element.id] = {"string_value": options[0]}
        await self.rerun()

    async def upload(self, key: str, name: str, data: bytes, mime_type: str = "video/mp4") -> None:
        """Upload ``data`` as ``name`` to the file uploader with user key ``key`` and rerun, as the browser does:
        ask the server for upload URLs, PUT the file (with the XSRF token), then send the uploader's new state."""
        from streamlit.proto.Common_pb2 import FileUploaderState

        element = self.widgets[key]
        request_id = uuid.uuid4().hex
        message = BackMsg()
        message.file_urls_request.request_id = request_id
        message.file_urls_request.file_names.append(name)
        message.file_urls_request.session_id = self.session_id
        await self._socket.send(message.SerializeToString())
        while request_id not in self._file_urls:
            await self._wait_for_change()
        file_urls = self._file_urls.pop(request_id)
        await asyncio.to_thread(self._put_file, file_urls.upload_url, name, data, mime_type)
        state = FileUploaderState()
        info = state.uploaded_file_info.add()
        info.file_id, info.name, info.size = file_urls.file_id, name, len(data)
        info.file_urls.CopyFrom(file_urls)
        self.widget_values[element.id] = {"file_uploader_state_value": state}
        await self.rerun()

    # ------------------------------------------------------------ waiting

    async def wait_for_text_containing(self, part: str, timeout_s: float) -> str:
        """Wait for a markdown or alert text containing ``part``; "text", or "problem" when an error box or an
        exception arrived first. Raises TimeoutError."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.state.problems:
                return "problem"
            if any(part in text for text in self.state.texts):
                return "text"
            await self._wait_for_change(deadline - time.monotonic())

    async def wait_until_finished(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.state.finished:
            await self._wait_for_change(deadline - time.monotonic())

    def fetch_media(self) -> int:
        """Fetch every image and video of the last run from the server, as the browser would; the bytes fetched."""
        fetched = 0
        for url in self.state.media:
            with urllib.request.urlopen(url if url.startswith("http") else self.base_url + url, timeout=60) as got:
                fetched += len(got.read())
        return fetched

    async def _wait_for_change(self, timeout_s: float | None = None) -> None:
        if timeout_s is not None and timeout_s <= 0:
            raise TimeoutError()
        self._changed.clear()
        if self._reader.done():
            raise ConnectionError(f"the server closed the connection ({self._reader.exception()!r})")
        await asyncio.wait_for(self._changed.wait(), timeout_s)

    # ------------------------------------------------------------ the server's side

    async def _read_messages(self) -> None:
        try:
            async for raw in self._socket:
                message = ForwardMsg()
                message.ParseFromString(raw)
                self._take(message)
                self._changed.set()
        finally:
            self._changed.set()

    def _take(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self.session_id = message.new_session.initialize.session_id or self.session_id
        elif kind == "navigation":  # which page ran (st.navigation): its hash is what the next rerun names
            self.page_script_hash = message.navigation.page_script_hash or self.page_script_hash
        elif kind == "script_finished":
            self.state.finished = True
        elif kind == "file_urls_response":
            for file_urls in message.file_urls_response.file_urls:
                self._file_urls[message.file_urls_response.response_id] = file_urls
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            self._take_element(message.delta.new_element)

    def _take_element(self, element) -> None:
        kind = element.WhichOneof("type")
        if kind == "markdown":
            self.state.texts.append(element.markdown.body)
        elif kind == "alert":
            self.state.texts.append(element.alert.body)
            if element.alert.format == ERROR_FORMAT:
                self.state.problems.append(element.alert.body)
        elif kind == "exception":
            self.state.problems.append(f"{element.exception.type}: {element.exception.message}")
        elif kind == "imgs":
            self.state.media += [image.url for image in element.imgs.imgs if image.url]
        elif kind == "video" and element.video.url:
            self.state.media.append(element.video.url)
        elif kind in ("selectbox", "radio", "file_uploader"):
            widget = getattr(element, kind)
            self.widgets[widget_key(widget.id)] = widget

    def _fetch_xsrf_cookie(self) -> None:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self._cookies))
        opener.open(self.base_url + "/_stcore/health", timeout=60).read()  # the health check sets the XSRF cookie

    def _put_file(self, upload_url: str, name: str, data: bytes, mime_type: str) -> None:
        xsrf = next((cookie.value for cookie in self._cookies if cookie.name == "_streamlit_xsrf"), "")
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"UploadedFile\"; filename=\"{name}\"\r\n"
                f"Content-Type: {mime_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        url = upload_url if upload_url.startswith("http") else self.base_url + upload_url
        request = urllib.request.Request(url, data=body, method="PUT", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": xsrf,
            "Cookie": f"_streamlit_xsrf={xsrf}", "Origin": self.base_url})
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()


# ------------------------------------------------------------ a pupil of the classroom phase

QUEUE_WORDS = ("ahead of yours", "In the queue")


async def light_classroom_session(base_url: str, session, task: tuple, truths: dict, timeout_s: float,
                                  phase_start: float, all_open=None) -> None:
    """The light twin of ``browser.classroom_session``: open Try it out and wait for its first reading, then (with
    ``all_open``, once every session has opened) read the own GRID clip or upload the own file as clip.mp4."""
    kind, what = task
    session.task = f"{task_label(task)} (light)"
    client = LightSession(base_url, "try_it_out")

    async def open_page() -> None:
        started = time.monotonic()
        await client.open()
        if await client.wait_for_text_containing(" frames at 25 fps", timeout_s) == "problem":
            raise RuntimeError(" | ".join(client.state.problems))
        session.open_seconds = time.monotonic() - started
        await client.wait_until_finished(timeout_s)

    async def steps() -> None:
        await open_then_wait(open_page, all_open)
        session.asked_at = time.monotonic() - phase_start
        if kind == "grid":
            reading = Reading("grid", what)
            asked = time.monotonic()
            await client.choose("clip", what)
            wanted = f"Ground truth (from the clip's alignment): **{truths[what]}**"
        else:
            reading = Reading("upload", f"{what.parent.name}/{what.name}")
            await client.choose("source", "Upload a clip")
            await client.wait_until_finished(timeout_s)
            asked = time.monotonic()
            await client.upload("upload", "clip.mp4", what.read_bytes())
            wanted = "Your clip: "
        outcome = await client.wait_for_text_containing(wanted, timeout_s)
        reading.queue_text = next((text for text in client.state.texts if any(w in text for w in QUEUE_WORDS)), None)
        if outcome == "problem":
            reading.error = " | ".join(client.state.problems)[:300]
        else:
            reading.seconds = time.monotonic() - asked
            await client.wait_until_finished(timeout_s)
            reading.precomputed = any("computed ahead of time" in text for text in client.state.texts)
            await asyncio.to_thread(client.fetch_media)
        session.readings.append(reading)

    try:
        await run_as_result(steps, session, timeout_s)
    finally:
        await client.close()
