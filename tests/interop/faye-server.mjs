// Faye (npm faye), a Bayeux server with WebSocket, for tests/cometd_interop.rs: the harness's Bayeux client
// must handshake over HTTP, switch to the WebSocket Faye offers, subscribe and receive.
//
// Prints "LISTENING <port>" once it listens on 127.0.0.1. The Bayeux endpoint is /faye. `POST /publish`
// with {"channel", "data"} publishes; `GET /stats` tells which connection types /meta/connect used.
import http from "node:http";
import faye from "faye";

const bayeux = new faye.NodeAdapter({ mount: "/faye", timeout: 5 });
const stats = { connectionTypes: [], subscribes: 0 };
bayeux.addExtension({
    incoming(message, callback) {
        if (message.channel === "/meta/connect") stats.connectionTypes.push(message.connectionType);
        if (message.channel === "/meta/subscribe") stats.subscribes++;
        callback(message);
    },
});
const httpServer = http.createServer((req, res) => {
    if (req.url === "/publish" && req.method === "POST") {
        let body = "";
        req.on("data", (c) => { body += c; });
        req.on("end", () => {
            const { channel, data } = JSON.parse(body);
            bayeux.getClient().publish(channel, data).then(() => res.end("published"), (e) => { res.statusCode = 500; res.end(String(e)); });
        });
        return;
    }
    if (req.url === "/stats") {
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify(stats));
        return;
    }
    res.statusCode = 404;
    res.end();
});
bayeux.attach(httpServer);
httpServer.listen(0, "127.0.0.1", () => console.log(`LISTENING ${httpServer.address().port}`));
setTimeout(() => process.exit(3), 60_000).unref();
