// CometD's own Node server (npm cometd-nodejs-server, long-polling only) for tests/cometd_interop.rs:
// the harness's Bayeux client must handshake (with the Basic credentials in $EXPECT_AUTH), keep the
// BAYEUX_BROWSER cookie this server binds sessions to, subscribe, receive, unsubscribe and disconnect.
//
// Prints "LISTENING <port>" once it listens on 127.0.0.1. `POST /publish` with {"channel", "data"}
// publishes a message; `GET /stats` tells what the server saw.
import http from "node:http";
import cometd from "cometd-nodejs-server";

const server = cometd.createCometDServer({ timeout: 5000 });
const stats = { handshakes: 0, deniedHandshakes: 0, subscribes: 0, unsubscribes: 0, disconnects: 0 };
server.policy = {
    canHandshake(session, message, callback) {
        const request = server.context.request;
        const ok = Boolean(request) && request.headers["authorization"] === process.env.EXPECT_AUTH;
        if (ok) stats.handshakes++; else stats.deniedHandshakes++;
        callback(null, ok);
    },
};
server.addListener("sessionAdded", (session) => {
    session.addListener("removed", (s, timeout) => { if (!timeout) stats.disconnects++; });
});
server.addListener("subscribed", () => { stats.subscribes++; });
server.addListener("unsubscribed", () => { stats.unsubscribes++; });

const httpServer = http.createServer((req, res) => {
    if (req.url === "/publish" && req.method === "POST") {
        let body = "";
        req.on("data", (c) => { body += c; });
        req.on("end", () => {
            const { channel, data } = JSON.parse(body);
            server.createServerChannel(channel).publish(null, data);
            res.end("published");
        });
        return;
    }
    if (req.url === "/stats") {
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify(stats));
        return;
    }
    server.handle(req, res);
});
httpServer.listen(0, "127.0.0.1", () => console.log(`LISTENING ${httpServer.address().port}`));
setTimeout(() => process.exit(3), 60_000).unref();
