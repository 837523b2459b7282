"""A local stub of WeChat's server API that records calls and can be told to fail.

Endpoints: token, stable_token, message/custom/send, message/template/send, media/get,
qrcode/create, menu/create, message/template/subscribe. Tokens it issues are checked like WeChat
does (40001).
Web sign-in (网页授权): /connect/oauth2/authorize redirects back with a code for ``oauth_openid``,
and /sns/oauth2/access_token exchanges it once (40163 on reuse, 40029 for an unknown code).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse


@dataclass
class Call:
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class Failure:
    """What to do instead of answering: errcode, http500, slow (seconds), json_body, stream.

    ``stream`` takes a dict: total (bytes), chunk (bytes per write), interval (seconds between
    writes), content_length (declared length, or None to send none); the bytes actually
    written before the client hung up are added to ``StubState.streamed``.
    """

    kind: str
    value: Any = None


@dataclass
class StubState:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    valid_tokens: set[str] = field(default_factory=set)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    token_counter: int = 0
    streamed: int = 0
    # OAuth: who "is signed in to WeChat" at the authorize step, and the codes issued so far.
    oauth_openid: str = "o-stub-user"
    oauth_codes: dict[str, str] = field(default_factory=dict)
    oauth_used: set[str] = field(default_factory=set)
    # --- answer delivery: template msgids (never reset: WeChat's are unique) ---
    msgid_counter: int = 0
    # --- end answer delivery ---
    lock: threading.Lock = field(default_factory=threading.Lock)


class WeChatStub:
    def __init__(self) -> None:
        self.state = StubState()
        handler = _make_handler(self.state)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> WeChatStub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self.state.lock:
            self.state.calls.clear()
            self.state.failures.clear()
            self.state.valid_tokens.clear()
            self.state.media.clear()
            self.state.streamed = 0
            self.state.oauth_openid = "o-stub-user"
            self.state.oauth_codes.clear()
            self.state.oauth_used.clear()

    def sign_in_as(self, openid: str) -> None:
        """The WeChat user whom the next authorize step identifies."""
        with self.state.lock:
            self.state.oauth_openid = openid

    def oauth_calls(self) -> list[Call]:
        with self.state.lock:
            return [c for c in self.state.calls if c.path == "/sns/oauth2/access_token"]

    def fail(self, endpoint: str, kind: str, value: Any = None, times: int = 1) -> None:
        """Make the next ``times`` calls to ``endpoint`` (e.g. "message/custom/send") fail."""
        with self.state.lock:
            self.state.failures.setdefault(endpoint, []).extend(Failure(kind, value) for _ in range(times))

    def expire_tokens(self) -> None:
        with self.state.lock:
            self.state.valid_tokens.clear()

    def calls_to(self, endpoint: str) -> list[Call]:
        with self.state.lock:
            return [c for c in self.state.calls if c.path == f"/cgi-bin/{endpoint}"]


def _make_handler(state: StubState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # The client may have given up (timeout tests): nothing to deliver then.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def _stream(
            self, total: int, chunk: int = 65536, interval: float = 0.0, content_length: int | None = None
        ) -> None:
            """A large or slowly dripping file, written as it goes (a big or slow media server)."""
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            if content_length is not None:
                self.send_header("Content-Length", str(content_length))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            block = b"\xff" * chunk
            sent = 0
            try:
                while sent < total:
                    piece = block[: min(chunk, total - sent)]
                    self.wfile.write(piece)
                    self.wfile.flush()
                    sent += len(piece)
                    with state.lock:
                        state.streamed += len(piece)
                    if interval:
                        time.sleep(interval)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading: what a cap or a deadline should do
            self.close_connection = True

        def _json(self, data: dict[str, Any]) -> None:
            self._send(200, json.dumps(data).encode())

        # --- answer delivery ---------------------------------------------------------------
        def _template_send(self, body: Any) -> None:
            """WeChat's checks that matter to us: a keyword value over 20 characters is 47003."""
            data = (body or {}).get("data") or {}
            if any(len(str((v or {}).get("value", ""))) > 20 for v in data.values()):
                self._json({"errcode": 47003, "errmsg": "argument invalid! data.value exceeds 20 chars"})
                return
            with state.lock:
                state.msgid_counter += 1
                msgid = state.msgid_counter
            self._json({"errcode": 0, "errmsg": "ok", "msgid": msgid})

        def _subscribe_send(self, body: Any) -> None:
            body = body or {}
            content = ((body.get("data") or {}).get("content") or {}).get("value", "")
            scene = str(body.get("scene", ""))
            ok = (
                body.get("touser")
                and body.get("template_id")
                and scene.isdigit()
                and 0 <= int(scene) <= 10000
                and 0 < len(str(body.get("title", ""))) <= 15
                and 0 < len(content) <= 200
            )
            if not ok:
                self._json({"errcode": 47003, "errmsg": "argument invalid!"})
                return
            self._json({"errcode": 0, "errmsg": "ok"})

        # --- end answer delivery -----------------------------------------------------------

        def do_GET(self) -> None:
            self._serve(None)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw.decode("utf-8")) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            self._serve(body)

        def _oauth(self, url: Any, query: dict[str, str]) -> bool:
            """网页授权: the authorize redirect and the code exchange; True when handled."""
            if url.path == "/connect/oauth2/authorize":
                if query.get("response_type") != "code" or query.get("scope") not in (
                    "snsapi_base",
                    "snsapi_userinfo",
                ):
                    self._send(400, "参数错误".encode(), "text/plain; charset=utf-8")
                    return True
                with state.lock:
                    code = f"code-{len(state.oauth_codes) + 1}-{time.monotonic_ns()}"
                    state.oauth_codes[code] = state.oauth_openid
                target = query.get("redirect_uri", "")
                sep = "&" if "?" in target else "?"
                location = f"{target}{sep}{urlencode({'code': code, 'state': query.get('state', '')})}"
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return True
            if url.path == "/sns/oauth2/access_token":
                with state.lock:
                    state.calls.append(Call(url.path, query, None))
                    code = query.get("code", "")
                    openid = state.oauth_codes.get(code)
                    used = code in state.oauth_used
                    if openid is not None and not used:
                        state.oauth_used.add(code)
                if used:
                    self._json({"errcode": 40163, "errmsg": "code been used"})
                elif openid is None or query.get("grant_type") != "authorization_code":
                    self._json({"errcode": 40029, "errmsg": "invalid code"})
                else:
                    self._json(
                        {
                            "access_token": f"web-{code}",
                            "expires_in": 7200,
                            "refresh_token": f"refresh-{code}",
                            "openid": openid,
                            "scope": "snsapi_base",
                        }
                    )
                return True
            return False

        def _serve(self, body: Any) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if self._oauth(url, query):
                return
            endpoint = url.path.removeprefix("/cgi-bin/")
            with state.lock:
                state.calls.append(Call(url.path, query, body))
                queue = state.failures.get(endpoint) or []
                failure = queue.pop(0) if queue else None
            if failure is not None:
                if failure.kind == "slow":
                    time.sleep(float(failure.value))
                elif failure.kind == "http500":
                    self._send(500, b"internal error", "text/plain")
                    return
                elif failure.kind == "errcode":
                    self._json({"errcode": failure.value, "errmsg": f"stub error {failure.value}"})
                    return
                elif failure.kind == "json_body":
                    self._json(failure.value)
                    return
                elif failure.kind == "stream":
                    self._stream(**failure.value)
                    return
            if endpoint in ("token", "stable_token"):
                with state.lock:
                    state.token_counter += 1
                    token = f"stub-token-{state.token_counter}"
                    state.valid_tokens.add(token)
                self._json({"access_token": token, "expires_in": 7200})
                return
            with state.lock:
                token_ok = query.get("access_token") in state.valid_tokens
            if not token_ok:
                self._json({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
                return
            if endpoint == "media/get":
                media = state.media.get(query.get("media_id", ""))
                if media is None:
                    self._json({"errcode": 40007, "errmsg": "invalid media_id"})
                    return
                self._send(200, media[0], media[1])
                return
            if endpoint == "qrcode/create":
                scene = (body or {}).get("action_info", {}).get("scene", {}).get("scene_str", "")
                self._json({"ticket": f"ticket-{scene}", "url": f"http://weixin.qq.com/q/{scene}"})
                return
            # --- answer delivery: template messages with msgids, one-time subscription messages ---
            if endpoint == "message/template/send":
                self._template_send(body)
                return
            if endpoint == "message/template/subscribe":
                self._subscribe_send(body)
                return
            # --- end answer delivery ---
            if endpoint in ("message/custom/send", "menu/create"):
                self._json({"errcode": 0, "errmsg": "ok", "msgid": 1})
                return
            self._json({"errcode": 40004, "errmsg": f"stub has no endpoint {endpoint}"})

    return Handler
