// SYNTHETIC, DEFANGED malwi validation sample - modelled on JavaScript reverse-shell packages (2020-2023); never run.
'use strict';
async function fetchRetry(fetchImpl, url, opts, tries) {
  let last;
  for (let i = 0; i < (tries || 3); i++) {
    try {
      return await fetchImpl(url, opts);
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 200 * 2 ** i));
    }
  }
  throw last;
}
module.exports = { fetchRetry };
