// The Node client of gen.sh: the same requests as the Go client, over
// HTTP/1.1 (https module) or HTTP/2 (http2 module). Keys are logged by
// NODE_OPTIONS=--tls-keylog=FILE.
//
//   node client.mjs https://127.0.0.1:8443 h1|h2
import https from "node:https";
import http2 from "node:http2";

const [base, mode] = process.argv.slice(2);
const authz =
  "/authorize?response_type=code&client_id=demo&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcallback&state=af0ifjsldkj&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
const token =
  "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcallback&client_id=demo&code_verifier=dBjftJeZ4CVP-mJ92K1s-QQ4cm6Z8b4v3yZ0xW9J3nc";
const steps = [
  ["GET", "/mcp", null, {}],
  ["GET", "/.well-known/oauth-authorization-server", null, {}],
  ["GET", authz, null, {}],
  ["POST", "/token", token, { "content-type": "application/x-www-form-urlencoded" }],
  ["GET", "/mcp", null, { authorization: "Bearer 2YotnFZFEjr1zCsicMWpAA" }],
];

if (mode === "h2") {
  const session = http2.connect(base, { rejectUnauthorized: false });
  for (const [method, path, body, headers] of steps) {
    await new Promise((resolve, reject) => {
      const req = session.request({ ":method": method, ":path": path, ...headers });
      req.on("response", () => {});
      req.on("data", () => {});
      req.on("end", resolve);
      req.on("error", reject);
      req.end(body ?? undefined);
    });
  }
  session.close();
} else {
  const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
  for (const [method, path, body, headers] of steps) {
    await new Promise((resolve, reject) => {
      const req = https.request(base + path, { method, headers, agent }, (res) => {
        res.on("data", () => {});
        res.on("end", resolve);
      });
      req.on("error", reject);
      req.end(body ?? undefined);
    });
  }
  agent.destroy();
}
