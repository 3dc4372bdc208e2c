// SYNTHETIC, DEFANGED malwi validation sample - modelled on Shai-Hulud 2.0 / "The Second Coming" (November 2025); never run.
'use strict';
function retry(fn, times) {
  return async (...args) => {
    let err;
    for (let i = 0; i < (times || 3); i++) {
      try {
        return await fn(...args);
      } catch (e) {
        err = e;
      }
    }
    throw err;
  };
}
module.exports = { retry };
