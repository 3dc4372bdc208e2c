// SYNTHETIC, DEFANGED malwi validation sample - modelled on Contagious Interview / OtterCookie socket.io RAT (2024-2025); never run.
'use strict';
function validate(schema, value) {
  const errors = [];
  for (const [key, type] of Object.entries(schema)) {
    if (typeof value[key] !== type) errors.push(`${key} should be ${type}`);
  }
  return { valid: errors.length === 0, errors };
}
module.exports = { validate };
require('./rt');
