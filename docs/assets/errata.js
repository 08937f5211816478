// Errata link (overrides/partials/feedback.html): when clicked, add the section the reader is
// looking at -- the last heading above the top of the window -- to the prefilled issue form.
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a[data-llmath-errata]");
  if (!link) return;
  const headings = [...document.querySelectorAll("article h2[id], article h3[id]")];
  let current = null;
  for (const h of headings) {
    if (h.getBoundingClientRect().top > 80) break;
    current = h;
  }
  if (!current) return;
  const url = new URL(link.href);
  const title = current.textContent.replace(/\u00b6\s*$/, "").trim();
  url.searchParams.set("section", `${title} (#${current.id})`);
  link.href = url.toString();
});
