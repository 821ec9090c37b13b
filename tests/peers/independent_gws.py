#!/usr/bin/env python3
"""An independent GWS (Genesys Web Services) Voice API server for StartContactCenterSession.

Written from the published page (shared/spec/StartContactCenterSession.txt, cited "page") and the
notes (shared/spec/gws-notes.md, cited "notes §N") alone, without reading the project's reference
server or its case expectations. Wherever the sources are silent it deliberately makes a choice that
differs from the obvious one, and each such choice is commented with the line it rests on.

Usage: independent_gws.py PORT      (0 = an ephemeral port)
The first line of standard output is the base URL. Python 3 standard library only.
$INDEP_GWS_MODES selects further choices (see MODES below).

Passwords: every user's password is $GWS_PASSWORD (default "indep-password"); the switch password of
the login code that needs one is $GWS_AGENT_LOGIN_PASSWORD (default "indep-switch").
"""

import base64
import gzip
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PASSWORD = os.environ.get("GWS_PASSWORD", "indep-password")
SWITCH_PASSWORD = os.environ.get("GWS_AGENT_LOGIN_PASSWORD", "indep-switch")

# Session cookie name. notes §4.2: "GWS issues a JSESSIONID cookie, and clients **must** keep a cookie
# store [DOC D6]". A client keeps whatever cookie it is given; nothing tells it to look for a name, so a
# container that names its session cookie otherwise is still a conforming GWS.
SESSION_COOKIE = "GWSSESSION"
# Path of the cookie: notes §5.1 puts CometD at <base>/api/v2/notifications and the page puts the API at
# /api/v2/me; a cookie scoped to /api/v2 reaches both (no line asks for Path=/).
COOKIE_PATH = "/api/v2"

VERSION = "8.5.201.04-indep"  # notes §2 "Version (no auth)": any version string

# Long-poll hold time. Bayeux lets the server choose advice.timeout; notes §5 says nothing of its value.
CONNECT_TIMEOUT_MS = 9000

INTERVAL = 0
# Switches, each a further choice the sources allow (every one is commented where it acts):
#   exclusive          a device another user is logged in on is refused (8.5.0 algorithm, step 2)
#   csrf-first         the CSRF check runs before authentication (an anonymous POST gets the CSRF 403)
#   cometd-csrf        CometD POSTs need the session's CSRF token too
#   reply-first        in a Bayeux answer, the meta replies come before the data messages
#   connect-only       data messages go out only on /meta/connect answers
#   interval           advice.interval is 400 ms
#   longhold           a /meta/connect is held up to 30 s (the CometD server default)
#   end-error          EndContactCenterSession without a session is an error (statusCode 2)
#   empty-invalid      an empty string parameter is invalid (not read as absent)
#   csrf-strict-rotate only the latest GET's CSRF token is valid
#   delay, delay=S     notifications go out 300 ms (S seconds) after the HTTP answer (not before it)
#   errors-200         errors other than 4 and 20 are answered with HTTP 200
#   csrf-header-name   X-CSRF-HEADER names another header than X-CSRF-TOKEN
#   session-rotate     StartContactCenterSession moves the HTTP session to a new id (new cookie, new token)
#   rehandshake        the first /meta/connect of each HTTP session gets 402 and reconnect=handshake
# Second round (transport, encoding and wire-format choices; each is commented where it acts):
#   conn-close         every answer says Connection: close and the connection is closed after it
#   no-gzip            answers are never compressed (identity), even when the client accepts gzip
#   chunked-all        every answer, REST too, goes out with Transfer-Encoding: chunked
#   ctype-bare         Content-Type: application/json (no charset)
#   ctype-upper        Content-Type: application/json;charset=UTF-8 (no space, upper-case charset)
#   json-style         compact JSON, members in reverse order, every ASCII letter of a string as \u00XX
#   extra-fields       extra members on every success body, user, device and notification data
#   partial-message    a partial success (7) also carries a top-level statusMessage
#   cookies            Path=/, Max-Age, Expires, SameSite=Strict; a second (load-balancer) cookie; the
#                      session cookie is re-set, same value, on every authenticated answer
#   bayeux-extra       ext on every Bayeux reply, advice on every /meta/connect reply, data messages
#                      without id, handshake reply with extra members
#   shorthold          advice.timeout 5 s (a /meta/connect is held at most 5 s)
#   dsc-assign         a DeviceStateChangeMessage for the device assignment (userState still LoggedOut)
#                      before the LoggedIn one
#   dsc-repeat         the post-login state is notified twice (a second DSC with the same userState)
#   unknown-channel-invalid  a channel name the server does not know refuses the whole request (code 2)
#   coerce             a JSON number or boolean where a string is expected is read as its text (Jackson's
#                      default scalar coercion)
#   auth-401           a wrong password gets HTTP 401 with WWW-Authenticate (no credentials stays 403)
#   no-diagnostics     GET /api/v2/diagnostics/version does not exist (404, code 6)
#   diag-auth          GET /api/v2/diagnostics/version needs credentials (401, code 20)
#   no-agent-state     Ready/NotReady are not implemented (404 on /api/v2/me/channels/voice, code 2 on /me)
#   no-csrf            CSRF protection off (no X-CSRF-* headers, no check)
#   csrf-text-newline  the CSRF refusal's plain-text content ends with CRLF
#   errors-status=N    every error but 20 and the CSRF refusal is answered with HTTP N
#   interval=MS        advice.interval is MS milliseconds
#   cometd-cookie-only the Bayeux endpoint authenticates by the HTTP session cookie only (Basic ignored)
#   end-drops-cometd   EndContactCenterSession also ends the Bayeux clients of the HTTP session it ends
#   bayeux-cookie      the handshake sets a BAYEUX_BROWSER cookie (as the CometD 3 server does)
#   accepted-202       a success of a POST operation is HTTP 202 Accepted (notes §3.3 saw 200, maps none;
#                      param-accepted demanded exactly 200 until it took any 2xx as the other cases do)
#   dsc-loggedin-twice a login is notified LoggedIn, then 500 ms later a second DSC for a device change
#                      (DND set Off) while the agent is still LoggedIn, then NotReady/Ready (notify-s1-twice
#                      blamed the second message on its second Start until its first step settled)
# $INDEP_GWS_MODES (comma-separated) replaces the default set; "default" names the default set, so
# INDEP_GWS_MODES=default,delay adds one; "-name" removes a mode (default,-end-error).
DEFAULT_MODES = {"exclusive", "csrf-first", "cometd-csrf", "reply-first", "connect-only", "interval", "longhold",
                 "end-error", "empty-invalid"}
MODES = set(filter(None, os.environ.get("INDEP_GWS_MODES", "default").split(",")))
if "default" in MODES:
    MODES |= DEFAULT_MODES
for m in [m for m in MODES if m.startswith("-")]:
    MODES.discard(m)
    MODES.discard(m[1:])
DELAY_S = 0.3
ERRORS_STATUS = None
for m in list(MODES):
    if m.startswith("errors-status="):
        ERRORS_STATUS = int(m.split("=", 1)[1])
    if m.startswith("interval="):
        # Bayeux 1.0 §5.2: the server advises the interval; notes §5.1 step 6: the client follows advice.
        INTERVAL_OVERRIDE = int(m.split("=", 1)[1])
        MODES.add("interval")
    if m.startswith("delay="):  # delay=SECONDS
        DELAY_S = float(m.split("=", 1)[1])
        MODES.add("delay")
# notes §4.3: X-CSRF-HEADER is "the name of the header to send back", and "Clients read the header name
# dynamically: headers[headers["X-CSRF-HEADER"]] [OBS G3]". Mode csrf-header-name names another header
# (the documented default is X-CSRF-TOKEN).
CSRF_HEADER = "X-GWS-CSRF" if "csrf-header-name" in MODES else "X-CSRF-TOKEN"
if "interval" in MODES:
    # notes §5.1: the client follows the server's advice (step 6); the interval is the server's to set.
    INTERVAL = globals().get("INTERVAL_OVERRIDE", 400)
if "longhold" in MODES:
    CONNECT_TIMEOUT_MS = 30000  # the CometD server default
if "shorthold" in MODES:
    # Bayeux 1.0 §5.2: advice.timeout is the server's choice; notes §5 name no value. 5 s is a common
    # setting behind proxies that cut idle connections.
    CONNECT_TIMEOUT_MS = 5000

USERSTATE_READY = {"id": "9430250E-0A1B-421F-B372-F29E69366DED", "displayName": "Ready", "state": "Ready"}
USERSTATE_NOT_READY = {
    "id": "900D55CC-2BB0-431F-8BF9-D3525B383BE6",
    "displayName": "Not Ready",
    "state": "NotReady",
}
# notes §2 step 2: the Offline id exactly as observed (mixed-case "Ef").
USERSTATE_OFFLINE = {
    "id": "0F7F5003-EF26-4D13-A6Ef-D0C7EC819BEB",
    "displayName": "Offline",
    "state": "LoggedOut",
}

MULTIMEDIA_CHANNELS = ("email", "chat", "workitem", "im", "IM session", "im-session", "sms", "facebook", "twitter")

# --------------------------------------------------------------------------------------------------
# The lab: users, places, devices, login codes, queues. Names are this lab's own; the samples' names
# (SIP_5000, 8000, 9000, agent1, agent1@pizza.com) exist because the page uses them.


class Device:
    def __init__(self, did, dn, kind):
        self.id = did  # an opaque id, not the DN
        self.dn = dn
        self.kind = kind  # "Extension" or "ACDPosition"
        self.path = "/devices/" + did


DEVICES = {}
PLACES = {}


def add_place(name, devs):
    lst = []
    for did, dn, kind in devs:
        d = Device(did, dn, kind)
        DEVICES[d.path] = d
        lst.append(d)
    PLACES[name] = lst


add_place("SIP_5000", [("dn-5000-sip", "5000", "Extension")])
add_place("agent1", [("dn-5100-a1", "5100", "Extension")])
add_place("agent1@pizza.com", [("dn-5101-pizza", "5101", "Extension")])
add_place("Lab.TwoACD", [("acd-x-6401", "6401", "ACDPosition"), ("acd-x-6402", "6402", "ACDPosition")])
add_place("Lab.TwoExt", [("ext-x-6501", "6501", "Extension"), ("ext-x-6502", "6502", "Extension")])
add_place("Lab.ExtPlusACD", [("ext-x-6601", "6601", "Extension"), ("acd-x-6602", "6602", "ACDPosition")])
# A place whose DN the switch has not registered: a voice login there fails with the real message
# (notes §1.3, the mirror partial success [OBS G2]: "Device '5001' is not registered.", code 4).
add_place("Lab.Unregistered", [("dn-x-6701", "6701", "Extension")])
UNREGISTERED = {"6701"}
# A one-device place that is nobody's default: a session there, then End, shows the default restored
# (page, place: "When the client ends the session, Web Services restores the default device assignment").
add_place("Lab.HotDesk", [("dn-x-6801", "6801", "Extension")])

USERS = {}
for n in range(1, 41):
    name = "agent%d" % n
    place = "WS-%02d" % n
    add_place(place, [("dn-%d-ws" % (7200 + n), str(7200 + n), "Extension")])
    USERS[name] = {
        "name": name,
        "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, name + ".indep.example")).replace("-", ""),
        "place": place,
        "login_code": "LC%04d" % (3000 + n),
        # The sample4 role's user (agent4 in the 21-agent layout, README "Roles and capabilities") has
        # its Interaction Server connection out of service: page, channels, "your Interaction Server is
        # out of service".
        "multimedia_up": n != 4,
    }

# Login codes: code -> switch password (None: none needed). page, agentLoginPassword.
LOGIN_CODES = {"8000": None, "agent1": SWITCH_PASSWORD}
for u in USERS.values():
    LOGIN_CODES[u["login_code"]] = None
QUEUES = {"9000", "9001", "9100"}
# Every DN the lab knows "exists in the Configuration Server" (page, dynamicPhoneNumber).
KNOWN_NUMBERS = {d.dn for d in DEVICES.values()}

STATE_LOCK = threading.RLock()
SESSIONS = {}  # session id -> {"user", "csrf"}
AGENTS = {}  # user -> {"voice": bool, "device": Device, "state": dict, "multimedia": set, "dyn": str}
REFERENCE_ID = [0]


def agent_state(user):
    with STATE_LOCK:
        return AGENTS.setdefault(user, {"voice": False, "device": None, "state": None, "multimedia": set(), "dyn": ""})


# --------------------------------------------------------------------------------------------------
# CometD (Bayeux long-polling). notes §5.1: URL <base>/api/v2/notifications, CometD 3; long-polling is a
# legal transport on its own ("The server's transports are configurable; some deployments disable
# websocket").


class BayeuxClient:
    def __init__(self, user):
        self.id = uuid.uuid4().hex[:20]
        self.user = user
        self.subs = set()
        self.queue = []
        self.cond = threading.Condition()
        self.connected_once = False
        self.drop_at_connect = False
        self.last_seen = time.time()


def session_cookie(sid):
    if "cookies" in MODES:
        # Mode cookies: attributes a container may set (RFC 6265 §4.1); no line of the sources fixes them.
        # No Secure: this server speaks plain HTTP, where a Secure cookie would never come back.
        return ("%s=%s; Path=/; Max-Age=3600; Expires=%s; HttpOnly; SameSite=Strict"
                % (SESSION_COOKIE, sid, time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 3600))))
    return "%s=%s; Path=%s; HttpOnly; SameSite=Lax" % (SESSION_COOKIE, sid, COOKIE_PATH)


CLIENTS = {}
HANDSHAKES = {}
MSG_ID = [0]


def channel_matches(pattern, channel):
    if pattern == channel:
        return True
    if pattern.endswith("/**"):
        return channel.startswith(pattern[:-2])
    if pattern.endswith("/*"):
        prefix = pattern[:-1]
        return channel.startswith(prefix) and "/" not in channel[len(prefix):]
    return False


DELAYED = []
DELAY_COND = threading.Condition()


def delayed_publisher():
    while True:
        with DELAY_COND:
            while not DELAYED:
                DELAY_COND.wait()
            at, args = DELAYED[0]
            now = time.time()
            if at > now:
                DELAY_COND.wait(at - now)
                continue
            DELAYED.pop(0)
        user, channel, data, still = args
        if still is None or still():
            publish_now(user, channel, data)


def publish_later(user, channel, data, delay_s, still=None):
    """Publishes after delay_s; `still` (a callable) must still hold then, or nothing is sent."""
    with DELAY_COND:
        DELAYED.append((time.time() + delay_s, (user, channel, data, still)))
        DELAYED.sort(key=lambda e: e[0])
        DELAY_COND.notify_all()


def publish(user, channel, data):
    if "delay" in MODES:
        # notes §3.2: "statusCode 0 means only accepted and forwarded to a backend. The real outcome
        # arrives by CometD": here, 300 ms after the answer.
        return publish_later(user, channel, data, DELAY_S)
    publish_now(user, channel, data)


def publish_now(user, channel, data):
    with STATE_LOCK:
        clients = [c for c in CLIENTS.values() if c.user == user]
        MSG_ID[0] += 1
        mid = MSG_ID[0]
    for c in clients:
        if any(channel_matches(p, channel) for p in c.subs):
            with c.cond:
                # Key order data first, channel last, as in the doc's example (notes §5.3).
                msg = {"data": data, "id": str(mid), "channel": channel}
                if "bayeux-extra" in MODES:
                    # Bayeux 1.0 §5.1: a published message's id is optional; ext is for extensions.
                    msg = {"data": data, "channel": channel, "ext": {"gws": {"node": "n2", "seq": mid}}}
                if "extra-fields" in MODES:
                    msg["data"] = dict(data, eventSequence=mid)
                c.queue.append(msg)
                c.cond.notify_all()


def metrics():
    # notes §5.3: real 8.5.2 adds "metrics" at the top of data; "A schema must allow additional
    # properties."
    return {"eventProcessing": {"serverGenerationTimestamp": int(time.time() * 1000), "nodeProcessingTimeNanos": 180000}}


def device_resource(base, user, dev, state):
    st = agent_state(user)
    # notes §5.3 device fields, plus the observed extras description/channels/dynamicPhoneNumber, in an
    # order of our own.
    return {
        "capabilities": ["ForwardCallsOn", "DoNotDisturbOn"],
        "userState": state,
        "deviceState": "Active",
        "id": dev.id,
        "phoneNumber": dev.dn,
        "e164Number": dev.dn,
        "telephonyNetwork": "Private",
        "doNotDisturb": "Off",
        "voiceEnvironmentUri": base + "/api/v2/voice-environments/0b7e5a2c-indep",
        "description": "",
        "channels": ["voice"],
        "dynamicPhoneNumber": st["dyn"],
        "uri": base + "/api/v2" + dev.path,
        "path": dev.path,
        **({"forwardTo": "", "dndState": "Off", "callCapacity": 1} if "extra-fields" in MODES else {}),
    }


def dsc(base, user, dev, state):
    return {
        "metrics": metrics(),
        "devices": [device_resource(base, user, dev, state)],
        "messageType": "DeviceStateChangeMessage",
    }


def error_notification(base, user, dev, text):
    # notes §5.3 "Error on a device topic [OBS G2]": messageType ErrorMessage with devicePath and
    # deviceUri; the iOS sample reads data.errorMessage [OBS G3].
    data = {"messageType": "ErrorMessage", "errorMessage": text, "metrics": metrics()}
    if dev is not None:
        data["devicePath"] = dev.path
        data["deviceUri"] = base + "/api/v2" + dev.path
    publish(user, "/v2/me/devices", data)


# --------------------------------------------------------------------------------------------------
# HTTP


def styled_json(obj):
    """Mode json-style: the same JSON value written differently. RFC 8259 §4: object members are
    unordered; §7: any character may be escaped as \\uXXXX. Compact separators (no whitespace)."""
    if isinstance(obj, dict):
        return "{" + ",".join(styled_json(k) + ":" + styled_json(v) for k, v in reversed(list(obj.items()))) + "}"
    if isinstance(obj, list):
        return "[" + ",".join(styled_json(v) for v in obj) + "]"
    if isinstance(obj, str):
        out = []
        for ch in obj:
            if ch.isascii() and ch.isalpha():
                out.append("\\u%04x" % ord(ch))
            else:
                out.append(json.dumps(ch, ensure_ascii=True)[1:-1])
        return '"' + "".join(out) + '"'
    return json.dumps(obj)


def content_type_json():
    # notes §3.3: the .NET client wants application/json; media type parameters and their case are the
    # server's (RFC 9110 §8.3.1: the type, subtype and charset value are case-insensitive).
    if "ctype-bare" in MODES:
        return "application/json"
    if "ctype-upper" in MODES:
        return "application/json;charset=UTF-8"
    return "application/json; charset=utf-8"


class ApiError(Exception):
    def __init__(self, code, message, http=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.http = http if http is not None else http_for(code)


def http_for(code):
    if "errors-200" in MODES and code not in (4, 20):
        # notes §3.3: "No doc page gives a mapping"; only 20 -> 403 and 4 -> 500 are observed. The page's
        # error sample (Sample 5) shows a body and no HTTP status.
        return 200
    if ERRORS_STATUS is not None and code != 20:
        # Mode errors-status=N: notes §3.3 "No doc page gives a mapping"; one exception mapper for every
        # GWS error (e.g. 500, or 422 for all validation) is as defensible as the INF table below.
        return ERRORS_STATUS
    # notes §3.3: 20 -> 403 [OBS]; 4 -> 500 [OBS]; 1, 2, 10 "probably 400"; 3, 5 "probably 403"; 6
    # "probably 404" [INF].
    return {1: 400, 2: 400, 10: 400, 3: 403, 5: 403, 20: 403, 6: 404, 4: 500, 16: 409, 19: 409}.get(code, 400)


def invalid(param, why="The specified value is not within valid range"):
    # The message format of the page's Sample 5 ("Parameter 'workmode' is invalid: \"...\"") used for
    # every parameter; code 2 as in that sample (notes §1.4 "Treat 2 as documented").
    return ApiError(2, "Parameter '%s' is invalid: \"%s\"" % (param, why))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "IndepGWS/0.3"

    def log_message(self, fmt, *args):  # quiet
        if os.environ.get("INDEP_GWS_LOG"):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    # ---- plumbing -------------------------------------------------------------------------------

    def parse_request(self):
        # One handler serves every request of a keep-alive connection: per-request state starts afresh.
        self.cookie_refresh = None
        return super().parse_request()

    def base(self):
        host = self.headers.get("Host") or "127.0.0.1"
        return "http://" + host

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 4 * 1024 * 1024:
            raise ApiError(10, "Request body too large", 413)
        return self.rfile.read(n) if n else b""

    def send_bytes(self, status, body, ctype, extra=(), chunked=False):
        # gzip whenever the client says it accepts it (RFC 9110 Accept-Encoding); the notes §3.3 demand
        # only JSON with a statusCode, not an identity encoding.
        accept = self.headers.get("Accept-Encoding") or ""
        enc = None
        # Mode no-gzip: identity is always acceptable (RFC 9110 §12.5.3).
        if body and "gzip" in accept.lower() and "no-gzip" not in MODES:
            body = gzip.compress(body)
            enc = "gzip"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if enc:
            self.send_header("Content-Encoding", enc)
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("Cache-Control", "no-store")
        for k, v in extra:
            self.send_header(k, v)
        if "cookies" in MODES:
            # Mode cookies: a load balancer's affinity cookie beside the session's (notes §4.2: clients
            # keep a cookie store, so every cookie they are given goes back), and the session cookie re-set
            # with the same value on every authenticated answer (as containers that refresh Max-Age do).
            self.send_header("Set-Cookie", "GWSLB=node-2; Path=/; HttpOnly")
            sid = getattr(self, "cookie_refresh", None)
            if sid and not any(k == "Set-Cookie" and v.startswith(SESSION_COOKIE + "=") for k, v in extra):
                with STATE_LOCK:
                    live = sid in SESSIONS
                if live:
                    self.send_header("Set-Cookie", session_cookie(sid))
        if "conn-close" in MODES:
            # Mode conn-close: HTTP/1.1 lets either side close after any answer (RFC 9112 §9.6).
            self.send_header("Connection", "close")
            self.close_connection = True
        if "chunked-all" in MODES:
            # Mode chunked-all: RFC 9112 §6.1 lets an HTTP/1.1 server chunk any answer.
            chunked = self.command != "HEAD"
        if chunked:
            # CometD answers go out chunked (HTTP/1.1 allows it for any response).
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            step = 37
            for i in range(0, len(body), step):
                piece = body[i:i + step]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status, obj, extra=(), chunked=False):
        # notes §3.3: the .NET client rejects a Content-Type that is not application/json; a charset
        # parameter keeps it application/json.
        if "json-style" in MODES:
            body = styled_json(obj).encode()
        else:
            body = json.dumps(obj, indent=1, ensure_ascii=True).encode()
        self.send_bytes(status, body, content_type_json(), extra, chunked)

    def send_error_body(self, err, extra=()):
        if err.http == 401:
            extra = list(extra) + [("WWW-Authenticate", 'Basic realm="GWS"')]
        # notes §3.2: "When statusCode != 0, the response carries statusMessage, and for errors no other
        # attributes." Key order is ours: statusMessage first.
        self.send_json(err.http, {"statusMessage": err.message, "statusCode": err.code}, extra)

    def cookies(self):
        out = {}
        for header in self.headers.get_all("Cookie") or []:
            for part in header.split(";"):
                if "=" in part:
                    k, v = part.strip().split("=", 1)
                    out[k] = v
        return out

    def basic_user(self):
        """None: no Basic header; False: a wrong one; else the user name."""
        h = self.headers.get("Authorization")
        if not h:
            return None
        if not h.lower().startswith("basic "):
            return False
        try:
            raw = base64.b64decode(h[6:].strip()).decode("utf-8")
        except Exception:
            return False
        user, _, pw = raw.partition(":")
        if user in USERS and pw == PASSWORD:
            return user
        return False

    def authenticate(self):
        """Returns (user, session id, new cookie header or None). Raises 20 when anonymous.

        notes §4.1: Basic is tried, and a failure leaves the request anonymous; protected resources then
        answer statusCode 20 with HTTP 403 [OBS G2]. notes §4.2: the session cookie alone also
        authenticates (the iOS sample's CometD relies on it)."""
        sid = self.cookies().get(SESSION_COOKIE)
        basic = self.basic_user()
        with STATE_LOCK:
            sess = SESSIONS.get(sid) if sid else None
            if basic is False:
                if "auth-401" in MODES:
                    # Mode auth-401: credentials that were sent and refused get 401 (RFC 9110 §15.5.2), with
                    # the documented body; notes §3.3 map no HTTP status to 20 but the anonymous 403 [OBS].
                    raise ApiError(20, "Access denied", 401)
                raise ApiError(20, "Access denied")
            if basic is None:
                if sess is None:
                    raise ApiError(20, "Access denied")
                self.cookie_refresh = sid
                return sess["user"], sid, None
            if sess is not None and sess["user"] == basic:
                self.cookie_refresh = sid
                return basic, sid, None
            sid = uuid.uuid4().hex + uuid.uuid4().hex[:8]
            SESSIONS[sid] = {"user": basic, "csrf": None}
            cookie = session_cookie(sid)
            return basic, sid, cookie

    def issue_csrf(self, sid):
        # notes §4.3: "Any GET returns two response headers: X-CSRF-HEADER: X-CSRF-TOKEN and X-CSRF-TOKEN:
        # <uuid>"; "The token lives with the HTTP session and shares its lifetime". Our choice: a NEW
        # token on every GET (the notes say what a GET returns, not that two GETs return the same token);
        # every token the session was given stays valid as long as the session ("shares its lifetime").
        # Mode csrf-strict-rotate: only the latest token is valid.
        if "no-csrf" in MODES:
            # Mode no-csrf: notes §4.3 "Enabled per node by enableCsrfProtection: true": off here.
            return []
        tok = str(uuid.uuid4())
        with STATE_LOCK:
            if sid in SESSIONS:
                if "csrf-strict-rotate" in MODES:
                    SESSIONS[sid]["tokens"] = set()
                SESSIONS[sid].setdefault("tokens", set()).add(tok)
                SESSIONS[sid]["csrf"] = tok
        return [("X-CSRF-HEADER", CSRF_HEADER), (CSRF_HEADER, tok)]

    def check_csrf(self, sid):
        # notes §4.3: PUT, POST and DELETE need the token; missing or unmatched gives HTTP 403 with content
        # "Missing or invalid Csrf token" (plain content, not necessarily the statusCode JSON [DOC D6]).
        # Our choice: the plain-text body, exactly as documented.
        if "no-csrf" in MODES:
            return True
        tok = self.headers.get(CSRF_HEADER)
        with STATE_LOCK:
            good = sid in SESSIONS and tok is not None and tok in SESSIONS[sid].get("tokens", ())
        if not good:
            # Mode csrf-text-newline: the documented content, written as a line (println).
            text = b"Missing or invalid Csrf token" + (b"\r\n" if "csrf-text-newline" in MODES else b"")
            self.send_bytes(403, text, "text/plain; charset=utf-8")
            return False
        return True

    # ---- dispatch -------------------------------------------------------------------------------

    def route(self):
        return urlsplit(self.path).path.rstrip("/") or "/"

    def do_GET(self):
        path = self.route()
        try:
            if path == "/api/v2/diagnostics/version":
                if "no-diagnostics" in MODES:
                    # Mode no-diagnostics: the version resource is not part of this operation's page; a
                    # deployment may not expose it (notes §6: a missing feature's resources answer 404).
                    raise ApiError(6, "Resource not found")
                if "diag-auth" in MODES:
                    # Mode diag-auth: diagnostics behind authentication (a hardened deployment).
                    if not self.basic_user():
                        raise ApiError(20, "Access denied", 401)
                # notes §2: unprotected.
                return self.send_json(200, {"version": VERSION, "statusCode": 0})
            if path in ("/api/v2/me", "/api/v2/me/devices", "/api/v2/features"):
                user, sid, cookie = self.authenticate()
                extra = self.issue_csrf(sid)
                if cookie:
                    extra.append(("Set-Cookie", cookie))
                if path == "/api/v2/me":
                    return self.send_json(200, self.user_body(user), extra)
                if path == "/api/v2/features":
                    return self.send_json(200, {"statusCode": 0, "features": [self.feature()]}, extra)
                return self.send_json(200, {"devices": self.devices_of(user), "statusCode": 0}, extra)
            if path.startswith("/api/v2/notifications"):
                raise ApiError(2, "Bayeux messages are POSTed", 405)
            raise ApiError(6, "Resource not found")
        except ApiError as e:
            self.send_error_body(e)

    def do_HEAD(self):
        self.do_GET()

    def do_PUT(self):
        self.wrong_method()

    def do_DELETE(self):
        self.wrong_method()

    def do_PATCH(self):
        self.wrong_method()

    def wrong_method(self):
        self.read_body()
        path = self.route()
        if path == "/api/v2/me":
            # Only POST is given for the operation (page, "HTTP method POST") and GET for the user (notes
            # §2). 405 with Allow (RFC 9110) and a GWS body with code 3, "Operation forbidden" (notes §3.1).
            return self.send_error_body(ApiError(3, "Method %s is not supported on /api/v2/me" % self.command, 405),
                                        [("Allow", "GET, POST")])
        self.send_error_body(ApiError(6, "Resource not found"))

    def do_POST(self):
        self.rotate_sid = None
        path = self.route()
        if path.startswith("/api/v2/notifications"):
            return self.bayeux()
        try:
            raw = self.read_body()
            if path not in ("/api/v2/me", "/api/v2/me/channels/voice"):
                raise ApiError(6, "Resource not found")
            if "csrf-first" in MODES:
                # notes §4.3: "If the header is missing, or the cookie is missing so the token cannot be
                # matched, the response is HTTP 403 with content 'Missing or invalid Csrf token'": the CSRF
                # check comes before authentication (as a servlet filter chain runs it), so an anonymous POST
                # without a session gets the CSRF refusal.
                if not self.check_csrf(self.cookies().get(SESSION_COOKIE)):
                    return
            user, sid, cookie = self.authenticate()
            if not self.check_csrf(sid):
                return
            extra = [("Set-Cookie", cookie)] if cookie else []
            try:
                body = json.loads(raw.decode("utf-8"))
            except Exception:
                # Not JSON at all: an input validation error (code 10, notes §3.1), HTTP 400.
                raise ApiError(10, "The request body is not valid JSON")
            if not isinstance(body, dict):
                raise ApiError(10, "The request body must be a JSON object")
            op = body.get("operationName")
            if op is None:
                raise ApiError(1, "Parameter 'operationName' is missing")
            if path == "/api/v2/me/channels/voice" and "no-agent-state" in MODES:
                # Mode no-agent-state: this server implements Start/EndContactCenterSession only; notes §6:
                # "relevant resources return 404".
                raise ApiError(6, "Resource not found")
            if path == "/api/v2/me/channels/voice":
                if op in ("Ready", "NotReady"):
                    return self.agent_ready(user, op, extra)
                raise ApiError(2, "Operation '%s' is not valid here" % (op,))
            if op == "StartContactCenterSession":
                # Mode session-rotate: when the contact center session starts (an answer of success),
                # the HTTP session moves to a new id (new cookie, no CSRF token yet), as
                # session-fixation protection does on a change of privilege. notes §4.2 only asks
                # clients to keep a cookie store; §4.3 ties the token to the session.
                self.rotate_sid = sid if "session-rotate" in MODES else None
                return self.start(user, body, extra)
            if op == "EndContactCenterSession":
                return self.end(user, sid, extra)
            if op in ("Ready", "NotReady") and "no-agent-state" not in MODES:
                # notes §2: Ready/NotReady on /api/v2/me [OBS G1, G4].
                return self.agent_ready(user, op, extra)
            # notes §6: a missing feature or operation gives an "invalid operation" error; code 2.
            raise ApiError(2, "Invalid operation: %s" % (json.dumps(op),))
        except ApiError as e:
            self.send_error_body(e)

    # ---- resources ------------------------------------------------------------------------------

    def feature(self):
        return {"id": "api-voice", "displayName": "Voice API", "description": "API for Voice",
                "autoAssignOnContactCenterCreate": True, "uri": self.base() + "/api/v2/features/api-voice",
                "path": "/features/api-voice"}

    def devices_of(self, user):
        st = agent_state(user)
        if st["voice"]:
            return [device_resource(self.base(), user, st["device"], st["state"])]
        return [device_resource(self.base(), user, d, USERSTATE_OFFLINE) for d in PLACES[USERS[user]["place"]]]

    def user_body(self, user):
        u = USERS[user]
        # notes §2 "Read user [DOC D5]" fields, with the extras real 8.5.2 returns (emailAddress,
        # contactCenterId) [OBS G2]; the user object comes before statusCode here.
        userobj = {
            "userName": user,
            "id": u["id"],
            "firstName": user.capitalize(),
            "lastName": "Indep",
            "emailAddress": user + "@indep.example",
            "roles": ["ROLE_AGENT"],
            "enabled": True,
            "changePasswordOnFirstLogin": False,
            "contactCenterId": "c1d2e3f4-indep",
            "uri": self.base() + "/api/v2/users/" + u["id"],
            "path": "/users/" + u["id"],
        }
        q = parse_qs(urlsplit(self.path).query).get("subresources", [""])[0]
        if q:
            wanted = set(q.split(",")) if q != "*" else {"devices", "features", "channels"}
            if "devices" in wanted:
                userobj["devices"] = self.devices_of(user)
            if "features" in wanted:
                userobj["features"] = [self.feature()]
            if "channels" in wanted:
                st = agent_state(user)
                chans = [{"channel": c, "userState": USERSTATE_NOT_READY} for c in sorted(st["multimedia"])]
                if chans:
                    userobj["channels"] = chans
                    userobj["channelStates"] = chans
        if "extra-fields" in MODES:
            # notes §2: real 8.5.2 returns more than the documented fields; any extra is allowed.
            userobj.update(agentLogins=[{"loginCode": u["login_code"], "switchName": "SIP_Switch"}],
                           defaultPlace=u["place"], settings={"locale": "en-US"})
            return {"user": userobj, "statusCode": 0, "serverTimestamp": int(time.time() * 1000)}
        return {"user": userobj, "statusCode": 0}

    # ---- operations -----------------------------------------------------------------------------

    def ok(self, extra, more=None):
        # Success body: statusCode 0 and no statusMessage (notes §3.1 "0 Success; no statusMessage").
        # Extra: a referenceId, as other GWS operations answer {"statusCode":0,"referenceId":7} (notes §5.3,
        # [DOC D21, D24]); notes §3.2 forbids other attributes only "for errors".
        with STATE_LOCK:
            REFERENCE_ID[0] += 1
            ref = REFERENCE_ID[0]
        if getattr(self, "rotate_sid", None):
            with STATE_LOCK:
                old = SESSIONS.pop(self.rotate_sid, None)
                nsid = uuid.uuid4().hex + uuid.uuid4().hex[:8]
                SESSIONS[nsid] = {"user": old["user"] if old else None, "csrf": None}
            self.rotate_sid = None
            extra = [h for h in extra if h[0] != "Set-Cookie"]
            extra.append(("Set-Cookie", session_cookie(nsid)))
        body = {"referenceId": ref}
        if "extra-fields" in MODES:
            # notes §3.2 forbids other attributes "for errors" only; success may carry more (D21, D24).
            body.update(requestId=str(uuid.uuid4()), serverTimestamp=int(time.time() * 1000))
        if more:
            body.update(more)
        if "partial-message" in MODES and body.get("statusCode") == 7:
            # notes §3.2 [DOC D4]: "When statusCode != 0, the response carries statusMessage".
            body["statusMessage"] = "Partial success: %d of %d channels failed" % (
                len(body["failed"]), len(body["failed"]) + len(body["succeeded"]))
        body["statusCode"] = 0 if not more or "statusCode" not in more else more["statusCode"]
        status = 207 if body["statusCode"] == 7 else 200
        if status == 200 and "accepted-202" in MODES:
            # Mode accepted-202: notes §3.2 "statusCode 0 means only accepted and forwarded to a backend"
            # (RFC 9110 §15.3.3, 202 Accepted); notes §3.3 observed 200, so this mode is exploratory.
            status = 202
        self.send_json(status, body, extra)

    def optional_string(self, body, name):
        v = body.get(name)
        if v is None:
            return None  # JSON null reads as absent (page: every such parameter is "optional")
        if "coerce" in MODES and isinstance(v, (int, float)) and not isinstance(v, bool):
            v = json.dumps(v)  # Mode coerce: Jackson reads a JSON number as its text for a String field
        elif "coerce" in MODES and isinstance(v, bool):
            v = "true" if v else "false"
        if not isinstance(v, str):
            raise invalid(name, "A string is expected")
        if v == "":
            if "empty-invalid" in MODES:
                raise invalid(name, "The value is empty")
            return None  # an empty string names nothing: read as absent
        return v

    def start(self, user, body, extra):
        # ---- validation: nothing has changed yet (notes §3.2: an error means no modification) ----
        channels = body.get("channels")
        if channels is None:
            # page: channels has no "optional" beside it, unlike every other parameter: required, code 1.
            raise ApiError(1, "Parameter 'channels' is missing")
        if not isinstance(channels, list):
            raise invalid("channels", "An array of channel names is expected")
        if not channels:
            # page: "An array of channels the agent uses in the session": a session of no channel is not
            # a session; code 1 (a required value is missing).
            raise ApiError(1, "Parameter 'channels' is empty")
        names = []
        for c in channels:
            if not isinstance(c, str):
                raise invalid("channels", "Channel names are strings")
            if c not in names:
                names.append(c)  # a repeated name counts once
            if "unknown-channel-invalid" in MODES and c != "voice" and c not in MULTIMEDIA_CHANNELS:
                # Mode unknown-channel-invalid: page, "Valid channel names are voice and any valid
                # multimedia channel": another name is an invalid parameter, refused like Sample 5's workmode.
                raise invalid("channels", "Channel '%s' is not valid" % c)
        place = self.optional_string(body, "place")
        login_code = self.optional_string(body, "loginCode")
        alp = body.get("agentLoginPassword")
        if alp is not None and not isinstance(alp, str):
            raise invalid("agentLoginPassword", "A string is expected")
        queue = self.optional_string(body, "queue")
        device_path = self.optional_string(body, "devicePath")
        dyn = self.optional_string(body, "dynamicPhoneNumber")
        wm = body.get("workmode")
        if wm is not None:
            # page: "Valid values are ManualIn and AutoIn"; exact spelling; Sample 5's error verbatim.
            if wm not in ("ManualIn", "AutoIn"):
                raise invalid("workmode")
        base = self.base()
        voice = "voice" in names
        others = [c for c in names if c != "voice"]

        results_ok, results_failed = [], []
        login_plan = None
        if voice:
            try:
                login_plan = self.plan_voice(user, place, device_path)
                results_ok.append("voice")
            except ApiError as e:
                results_failed.append(("voice", e))
        mm_new = []
        for c in others:
            if c not in MULTIMEDIA_CHANNELS:
                # page: "Valid channel names are voice and any valid multimedia channel": an unknown name
                # is a failed channel (the page's per-channel failure reporting), code 6 (not found).
                results_failed.append((c, ApiError(6, "Channel '%s' is not known" % c)))
            elif not USERS[user]["multimedia_up"]:
                # notes §1.3 real message [OBS G2], code 4, for the multimedia channel.
                results_failed.append((c, ApiError(4, "Interaction server connection is not opened")))
            else:
                results_ok.append(c)
                mm_new.append(c)

        if not results_ok:
            # page: "If all channel operations fail, Web Services only returns a statusCode and
            # statusMessage for one of the channels." We return the first one.
            raise results_failed[0][1]

        # ---- act: the notification goes out BEFORE the HTTP answer (notes §5.1: "strict ordering is not
        # proven to be required"; WWE saw the DSC after its POST); mode delay sends it 300 ms after ----
        if login_plan is not None:
            self.do_voice_login(base, user, login_plan, login_code, alp, queue, dyn, wm)
        st = agent_state(user)
        fresh = [c for c in mm_new if c not in st["multimedia"]]
        for c in fresh:
            st["multimedia"].add(c)
        if fresh:
            # notes §5.3: ChannelStateChangeMessageV2 on /v2/me/channels, body shape of D18.
            publish(user, "/v2/me/channels", {
                "channels": [{"userState": USERSTATE_NOT_READY, "channel": c} for c in fresh],
                "messageType": "ChannelStateChangeMessageV2",
            })

        if results_failed:
            # notes §1.3: statusCode 7 with failed[] and succeeded[]; HTTP 2xx [OBS G2]. Our 2xx is 207 and
            # the failed entry names the channel as requested (notes §1.3 "A harness should accept channel
            # in {voice, multimedia, or the literal requested name}").
            return self.ok(extra, {
                "succeeded": [{"channel": c, "statusCode": 0} for c in results_ok],
                "failed": [{"channel": c, "statusMessage": e.message, "statusCode": e.code} for c, e in results_failed],
                "statusCode": 7,
            })
        self.ok(extra)

    def plan_voice(self, user, place, device_path):
        """Resolves the device (page, place and devicePath). Raises ApiError when it cannot."""
        pname = place if place is not None else USERS[user]["place"]
        if pname not in PLACES:
            raise ApiError(6, "Place '%s' not found" % pname)
        devs = PLACES[pname]
        if device_path is not None:
            dev = DEVICES.get(device_path)
            if dev is None:
                raise ApiError(6, "Device '%s' not found" % device_path)
            if dev not in devs:
                # page, devicePath: "A path to a device assigned to an agent"; a device of another place is
                # not assigned by this login: code 16, "Unable to assign resource" (notes §3.1).
                raise ApiError(16, "Device '%s' does not belong to place '%s'" % (device_path, pname))
            return self.free(user, dev)
        if len(devs) == 1:
            return self.free(user, devs[0])
        acd = [d for d in devs if d.kind == "ACDPosition"]
        if len(acd) == 1:
            return self.free(user, acd[0])
        # page: no ACDPosition or several: "the StartContactCenterSession operation fails"; devicePath "is
        # mandatory" then: code 1, a required parameter is missing.
        raise ApiError(1, "Parameter 'devicePath' is missing: place '%s' has %d devices and %d ACD positions"
                       % (pname, len(devs), len(acd)))

    def free(self, user, dev):
        if dev.dn in UNREGISTERED:
            raise ApiError(4, "Device '%s' is not registered." % dev.dn)
        if "exclusive" in MODES:
            # notes §1.1, the 8.5.0 algorithm [DOC D3], step 2: "If any device is currently assigned to
            # another user, return an error." Code 19, "Resource already in use" (notes §3.1).
            with STATE_LOCK:
                for other, st in AGENTS.items():
                    if other != user and st["voice"] and st["device"] is dev:
                        raise ApiError(19, "Device '%s' is assigned to another user" % dev.path)
        return dev

    def do_voice_login(self, base, user, dev, login_code, alp, queue, dyn, wm):
        st = agent_state(user)
        if st["voice"]:
            # page, Sample 1: "If the agent is already logged in, Web Services skips the login request and
            # doesn't return a notification."
            return
        # The switch-side checks are asynchronous: statusCode 0 only means "accepted and forwarded to a
        # backend"; the real outcome arrives by CometD (notes §3.2 [DOC D9]); SIP Server rejects
        # RequestAgentLogin (page, dynamicPhoneNumber). A refusal is an ErrorMessage (notes §5.3).
        if login_code is not None:
            if login_code not in LOGIN_CODES:
                return error_notification(base, user, dev, "Login code '%s' is not known to the switch" % login_code)
            need = LOGIN_CODES[login_code]
            if need is not None and alp != need:
                return error_notification(base, user, dev, "RequestAgentLogin rejected: invalid password")
        if queue is not None and queue not in QUEUES:
            return error_notification(base, user, dev, "Queue '%s' is not known" % queue)
        if dyn is not None and dyn in KNOWN_NUMBERS:
            return error_notification(base, user, dev, "Phone number '%s' already exists" % dyn)
        st["voice"] = True
        st["device"] = dev
        st["dyn"] = dyn or ""
        # notes §2 step 4: first a LoggedIn userState with no id or displayName, then the state the
        # workmode gives: AutoIn -> Ready, ManualIn or none -> NotReady (notes §5.3 "LoggedIn, then
        # NotReady or Ready depending on the switch/workmode").
        if "dsc-assign" in MODES:
            # Mode dsc-assign: notes §1.1, 8.5.0 algorithm step 3 "Assign all of the place's devices to the
            # current user" happens before step 5's RequestAgentLogin; the assignment is a device change
            # (notes §5.2: /v2/me/devices), notified with the agent still logged out.
            publish(user, "/v2/me/devices", dsc(base, user, dev, USERSTATE_OFFLINE))
        st["state"] = {"state": "LoggedIn"}
        publish(user, "/v2/me/devices", dsc(base, user, dev, st["state"]))
        st["state"] = USERSTATE_READY if wm == "AutoIn" else USERSTATE_NOT_READY
        if wm:
            st["state"] = dict(st["state"], workMode=wm)
        if "dsc-loggedin-twice" in MODES:
            # Mode dsc-loggedin-twice: notes §5.2, /v2/me/devices carries "agent state, DND, forwarding";
            # §5.3 "one or more DSC ... LoggedIn, then NotReady or Ready". The switch confirms DND Off
            # 500 ms after the login, while the agent is still LoggedIn: that DSC carries the current
            # userState, LoggedIn, again; the post-login state follows 300 ms later. Both belong to the
            # first login; a second Start while logged in still publishes nothing (Sample 1).
            again = dsc(base, user, dev, {"state": "LoggedIn"})
            again["devices"][0]["capabilities"] = ["ForwardCallsOn", "DoNotDisturbOn"]
            again["devices"][0]["doNotDisturb"] = "Off"
            # A logout in between cancels them (a switch reports no device change of a logged-out agent).
            login = object()
            st["login"] = login

            def still():
                return st.get("login") is login and st["voice"]
            publish_later(user, "/v2/me/devices", again, 0.5, still)
            publish_later(user, "/v2/me/devices", dsc(base, user, dev, st["state"]), 0.8, still)
            return
        publish(user, "/v2/me/devices", dsc(base, user, dev, st["state"]))
        if "dsc-repeat" in MODES:
            # Mode dsc-repeat: notes §5.3 "one or more DSC": the state is notified again (as a T-Server
            # EventAgentNotReady after EventAgentLogin would be), same userState.
            publish(user, "/v2/me/devices", dsc(base, user, dev, st["state"]))

    def end(self, user, sid, extra):
        st = agent_state(user)
        base = self.base()
        if st["voice"]:
            dev = st["device"]
            st["voice"] = False
            st["device"] = None
            st["state"] = None
            st["dyn"] = ""
            # The logout is a device state change like the login (notes §5.2: /v2/me/devices carries agent
            # state): Offline, with the observed id.
            publish(user, "/v2/me/devices", dsc(base, user, dev, USERSTATE_OFFLINE))
        elif not st["multimedia"] and "end-error" in MODES:
            # notes §3.1 code 2: "A parameter is not valid for the current state": no session to end.
            raise ApiError(2, "No contact center session is active")
        st["multimedia"] = set()
        # notes §2: EndContactCenterSession "also invalidates the HTTP session". We also expire the cookie.
        with STATE_LOCK:
            SESSIONS.pop(sid, None)
            dropped = [c for c in CLIENTS.values() if getattr(c, "sid", None) == sid] if "end-drops-cometd" in MODES else []
            for c in dropped:
                # Mode end-drops-cometd: notes §2 "[End] also invalidates the HTTP session"; a Bayeux client
                # bound to that session ends with it (its next /meta/connect gets 402, reconnect=handshake).
                CLIENTS.pop(c.id, None)
        for c in dropped:
            with c.cond:
                c.cond.notify_all()
        gone = "%s=; Path=%s; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT" % (
            SESSION_COOKIE, "/" if "cookies" in MODES else COOKIE_PATH)
        self.cookie_refresh = None
        self.ok([h for h in extra if h[0] != "Set-Cookie"] + [("Set-Cookie", gone)])

    def agent_ready(self, user, op, extra):
        st = agent_state(user)
        if not st["voice"]:
            raise ApiError(2, "The agent is not logged in on voice")
        st["state"] = USERSTATE_READY if op == "Ready" else USERSTATE_NOT_READY
        publish(user, "/v2/me/devices", dsc(self.base(), user, st["device"], st["state"]))
        self.ok(extra)

    # ---- Bayeux ---------------------------------------------------------------------------------

    def bayeux(self):
        try:
            raw = self.read_body()
        except ApiError as e:
            return self.send_error_body(e)
        if "cometd-csrf" in MODES:
            # notes §4.3: CometD and CSRF "Unresolved"; the iOS sample hands the token to its CometD client.
            if not self.check_csrf(self.cookies().get(SESSION_COOKIE)):
                return
        try:
            msgs = json.loads(raw.decode("utf-8"))
        except Exception:
            return self.send_error_body(ApiError(10, "Bayeux messages must be a JSON array"))
        if isinstance(msgs, dict):
            msgs = [msgs]
        if not isinstance(msgs, list):
            return self.send_error_body(ApiError(10, "Bayeux messages must be a JSON array"))
        replies = []
        hold = None
        cookie_hdr = []
        for m in msgs:
            if not isinstance(m, dict):
                continue
            ch = m.get("channel")
            r = {"channel": ch, "successful": False}
            if "id" in m:
                r["id"] = m["id"]
            if ch == "/meta/handshake":
                # CometD has no documented CSRF need (notes §4.3 "Unresolved"): we do not require it.
                try:
                    if "cometd-cookie-only" in MODES:
                        # Mode cometd-cookie-only: notes §4.2, the iOS sample: the GET /me "retrieve[s] a
                        # cookie that will be used by CometD for authorization"; Basic is not looked at here.
                        with STATE_LOCK:
                            sess = SESSIONS.get(self.cookies().get(SESSION_COOKIE) or "")
                        if sess is None:
                            raise ApiError(20, "Access denied")
                        user, _sid, cookie = sess["user"], self.cookies().get(SESSION_COOKIE), None
                    else:
                        user, _sid, cookie = self.authenticate()
                except ApiError:
                    r.update(error="403::Access denied", advice={"reconnect": "none"})
                    replies.append(r)
                    continue
                if cookie:
                    cookie_hdr.append(("Set-Cookie", cookie))
                c = BayeuxClient(user)
                c.sid = _sid
                if "bayeux-cookie" in MODES:
                    # Mode bayeux-cookie: the CometD 3 server sets BAYEUX_BROWSER on the handshake (its
                    # multiple-clients detection); notes §5.1: GWS 8.5.2 uses CometD 3 [DOC D11].
                    cookie_hdr.append(("Set-Cookie", "BAYEUX_BROWSER=%s; Path=/; HttpOnly" % uuid.uuid4().hex[:16]))
                with STATE_LOCK:
                    CLIENTS[c.id] = c
                    # Mode rehandshake: the first handshake of each HTTP session is forgotten before its
                    # first /meta/connect, as a cluster node that did not see it would (the next one is kept).
                    key = self.cookies().get(SESSION_COOKIE) or ("basic:" + user)
                    c.drop_at_connect = "rehandshake" in MODES and key not in HANDSHAKES
                    HANDSHAKES[key] = HANDSHAKES.get(key, 0) + 1
                r.update(successful=True, clientId=c.id, version="1.0", minimumVersion="1.0",
                         supportedConnectionTypes=["long-polling", "callback-polling"],
                         advice={"reconnect": "retry", "interval": INTERVAL, "timeout": CONNECT_TIMEOUT_MS})
                if "bayeux-extra" in MODES:
                    # Bayeux 1.0 §5.1: ext and further advice members are the server's; CometD 3 servers
                    # answer "reestablish" and "ext": {"ack": true} when the ack extension is on.
                    r.update(reestablish=False, ext={"ack": True}, advice=dict(r["advice"], maxInterval=10000))
                replies.append(r)
                continue
            c = CLIENTS.get(m.get("clientId"))
            if c is None:
                r.update(error="402::Unknown client", advice={"reconnect": "handshake", "interval": 0})
                replies.append(r)
                continue
            c.last_seen = time.time()
            r["clientId"] = c.id
            if ch == "/meta/connect":
                r["successful"] = True
                if c.drop_at_connect:
                    # Mode rehandshake: the server forgets the client (as after a node restart) and asks
                    # for a new handshake; notes §5.1 step 6: "On /meta/connect failure with
                    # advice.reconnect == "handshake", handshake again [OBS G3]".
                    with STATE_LOCK:
                        CLIENTS.pop(c.id, None)
                    r.update(successful=False, error="402::Unknown client",
                             advice={"reconnect": "handshake", "interval": 0})
                elif not c.connected_once:
                    # Bayeux: the first connect returns at once, with the advice.
                    c.connected_once = True
                    r["advice"] = {"reconnect": "retry", "interval": INTERVAL, "timeout": CONNECT_TIMEOUT_MS}
                else:
                    hold = c
                replies.append(r)
            elif ch == "/meta/subscribe" or ch == "/meta/unsubscribe":
                sub = m.get("subscription")
                subs = sub if isinstance(sub, list) else [sub]
                if not all(isinstance(s, str) and s.startswith("/") for s in subs):
                    r.update(error="400::Bad subscription", subscription=sub)
                else:
                    for s in subs:
                        (c.subs.add if ch == "/meta/subscribe" else c.subs.discard)(s)
                    r.update(successful=True, subscription=sub)
                replies.append(r)
            elif ch == "/meta/disconnect":
                with STATE_LOCK:
                    CLIENTS.pop(c.id, None)
                with c.cond:
                    c.cond.notify_all()
                r["successful"] = True
                replies.append(r)
            else:
                # Clients do not publish to GWS channels.
                r.update(error="403::Publish denied")
                replies.append(r)
        delivered = []
        if hold is not None:
            deadline = time.time() + CONNECT_TIMEOUT_MS / 1000.0
            with hold.cond:
                while not hold.queue and time.time() < deadline and hold.id in CLIENTS:
                    hold.cond.wait(max(0.0, deadline - time.time()))
                delivered, hold.queue = hold.queue, []
        elif "connect-only" not in MODES:
            # Mode connect-only: only /meta/connect carries data messages (the long-polling transport of
            # notes §5.1 step 3 "Run /meta/connect loops").
            # Messages waiting for a client that is not holding a connect go out with any reply.
            for r in replies:
                c = CLIENTS.get(r.get("clientId"))
                if c is not None and r.get("successful"):
                    with c.cond:
                        delivered, c.queue = delivered + c.queue, []
                    break
        if "bayeux-extra" in MODES:
            for r in replies:
                r.setdefault("ext", {})["gws"] = {"node": "n2"}
                if r.get("channel") == "/meta/connect" and r.get("successful") and "advice" not in r:
                    r["advice"] = {"reconnect": "retry", "interval": INTERVAL, "timeout": CONNECT_TIMEOUT_MS}
        # notes §5.3 gives the message form, not the order of messages in one Bayeux answer: mode
        # reply-first puts the meta replies before the data messages.
        out = replies + delivered if "reply-first" in MODES else delivered + replies
        self.send_json(200, out, cookie_hdr, chunked=True)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    threading.Thread(target=delayed_publisher, daemon=True).start()
    srv = Server(("127.0.0.1", port), Handler)
    print("http://127.0.0.1:%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
