// Errata link (overrides/partials/feedback.html). The link sits at the end of the page, so where the
// reader has scrolled says little; what they selected says more. When it is clicked, add to the
// prefilled issue form (field ids of .github/ISSUE_TEMPLATE/errata.yml):
//   section: the heading before the selected text, else the one the address's #anchor names;
//   wrong:   the selected text, quoted, for the reader to say what is wrong with it.
(() => {
  let selected = null;
  const isErrata = (event) => event.target.closest && event.target.closest("a[data-llmath-errata]");

  // a mouse press can clear the selection before the click: remember it first
  document.addEventListener("mousedown", (event) => {
    if (!isErrata(event)) return;
    const s = document.getSelection();
    selected = s && !s.isCollapsed && s.rangeCount ? s.getRangeAt(0).cloneRange() : null;
  }, true);

  const headingBefore = (node) => {
    let found = null;
    for (const h of document.querySelectorAll("article h2[id], article h3[id], article h4[id]")) {
      if (h === node || h.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_FOLLOWING) found = h;
      else break;
    }
    return found;
  };

  document.addEventListener("click", (event) => {
    const link = isErrata(event);
    if (!link) return;
    const s = document.getSelection();
    const range = selected || (s && !s.isCollapsed && s.rangeCount ? s.getRangeAt(0) : null);
    selected = null;
    const url = new URL(link.href);
    let anchor = null;
    if (range) anchor = range.startContainer;
    else if (location.hash) anchor = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    const heading = anchor && headingBefore(anchor);
    if (heading) {
      const title = heading.textContent.replace(/\u00b6/g, "").trim();
      url.searchParams.set("section", `${title} (#${heading.id})`);
    }
    const text = range ? range.toString().trim().replace(/\s+/g, " ").slice(0, 1500) : "";
    if (text) url.searchParams.set("wrong", `> ${text}\n\n`);
    link.href = url.toString();
  });
})();
