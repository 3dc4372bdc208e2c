// SYNTHETIC, DEFANGED malwi validation sample - modelled on peacenotwar protestware (2022); never run.
// Drops a message file on the desktop and in OneDrive on require. Defanged: the target folder
// is a placeholder under the temp dir, not the real desktop.
import fs from 'fs';
import os from 'os';
import path from 'path';

const message = 'Defanged placeholder message.\n';
const home = path.join(os.tmpdir(), 'malwi-defanged-placeholder');
const targets = [path.join(home, 'Desktop'), path.join(home, 'OneDrive'), path.join(home, 'OneDrive', 'Desktop')];

for (const dir of targets) {
  try {
    if (fs.existsSync(dir)) {
      fs.writeFileSync(path.join(dir, 'WITH-LOVE-FROM-AMERICA.txt'), message);
    }
  } catch (e) {
    // ignore
  }
}

export default function () {
  return message;
}
