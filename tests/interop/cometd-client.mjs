// The official CometD JavaScript client (npm cometd + cometd-nodejs-client) against the reference server,
// for tests/cometd_interop.rs. Usage: node cometd-client.mjs BASE_URL USER PASSWORD TRANSPORT
// (TRANSPORT: long-polling | websocket).
//
// It handshakes on BASE_URL/api/v2/notifications with the agent's Basic credentials, subscribes to
// /v2/me/devices, then (REST, as a desktop does) starts the contact center session, waits for the
// DeviceStateChangeMessages LoggedIn and NotReady, ends the session, waits for LoggedOut, and
// disconnects. Every message is printed as "MESSAGE <json>"; the last line is "DONE <transport>".
// Exits non-zero with a reason on any failure, and after 15 s at the latest.
import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";
import { WebSocket as NodeWebSocket } from "ws";

const [base, user, password, transport] = process.argv.slice(2);
const auth = "Basic " + Buffer.from(`${user}:${password}`).toString("base64");
const fail = (why) => { console.log(`FAIL ${why}`); process.exit(1); };
setTimeout(() => fail("timeout after 15 s"), 15_000).unref();

adapt();
// The browser sends the agent's credentials with the WebSocket upgrade; Node's `ws` needs telling.
globalThis.window.WebSocket = class extends NodeWebSocket {
    constructor(url, protocols) { super(url, protocols, { headers: { Authorization: auth } }); }
};
const cometd = new CometD();
if (transport === "long-polling") cometd.unregisterTransport("websocket");
else if (transport === "websocket") cometd.unregisterTransport("long-polling");
cometd.configure({ url: `${base}/api/v2/notifications`, requestHeaders: { Authorization: auth }, logLevel: process.env.COMETD_LOG || "warn" });

let cookie = "";
let token = "";
async function rest(operationName) {
    if (!cookie) {
        const r = await fetch(`${base}/api/v2/me`, { headers: { Authorization: auth } });
        cookie = (r.headers.get("set-cookie") || "").split(";")[0];
        token = r.headers.get("x-csrf-token") || "";
    }
    const r = await fetch(`${base}/api/v2/me`, {
        method: "POST",
        headers: { Authorization: auth, Cookie: cookie, "X-CSRF-TOKEN": token, "Content-Type": "application/json" },
        body: JSON.stringify({ operationName, channels: ["voice"] }),
    });
    const text = await r.text();
    console.log(`REST ${operationName} ${r.status} ${text}`);
    if (r.status !== 200) fail(`${operationName} answered ${r.status}`);
}

const states = [];
let phase = "login";
cometd.handshake((reply) => {
    if (!reply.successful) fail(`handshake: ${JSON.stringify(reply)}`);
    cometd.subscribe("/v2/me/devices", (message) => {
        console.log(`MESSAGE ${JSON.stringify(message)}`);
        const state = message.data?.devices?.[0]?.userState?.state;
        states.push(state);
        if (phase === "login" && states.includes("LoggedIn") && states.includes("NotReady")) {
            phase = "logout";
            rest("EndContactCenterSession").catch((e) => fail(e));
        } else if (phase === "logout" && state === "LoggedOut") {
            const used = cometd.getTransport().type;
            cometd.disconnect((r) => {
                if (!r.successful) fail(`disconnect: ${JSON.stringify(r)}`);
                console.log(`DONE ${used}`);
                process.exit(0);
            });
        }
    }, (subscribed) => {
        if (!subscribed.successful) fail(`subscribe: ${JSON.stringify(subscribed)}`);
        rest("StartContactCenterSession").catch((e) => fail(e));
    });
});
