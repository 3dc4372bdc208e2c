// SYNTHETIC, DEFANGED malwi validation sample - modelled on browser-profile stealer packages (2020-2025); never run.
'use strict';
function toHtml(bookmarks) {
  const items = bookmarks.map((b) => `<DT><A HREF="${b.url}">${String(b.title).replace(/</g, '&lt;')}</A>`);
  return '<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p>\n' + items.join('\n') + '\n</DL><p>';
}
module.exports = { toHtml };
