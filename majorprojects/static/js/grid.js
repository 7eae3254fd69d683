// Batch entry grid (批量填报): Enter / ↓ / ↑ move to the same column in the next or previous row,
// a row is saved over HTMX when focus leaves it after an edit, and forms on the page wait for
// saves in flight. Every listener is delegated from the document, so rows the server re-renders
// need no set-up. No inline handlers (CSP script-src 'self').
(function () {
  "use strict";

  var FIELDS = "input[data-col], textarea[data-col], select[data-col]";
  var pointerRow = null;

  function rowOf(el) {
    return el && el.closest ? el.closest("#grid tr[data-report]") : null;
  }

  function isField(el) {
    return !!(el && el.matches && el.matches(FIELDS) && rowOf(el));
  }

  function busy() {
    return !!document.querySelector("#grid .htmx-request, #grid tr[data-saving]");
  }

  function save(row) {
    if (!row || !row.dataset.dirty || !window.htmx) { return; }
    delete row.dataset.dirty;
    row.dataset.saving = "1";
    window.htmx.trigger(row, "grid:save");
  }

  // The row in `step` direction that has an input in column `col` (read-only rows are skipped).
  function target(row, step, col) {
    var next = step > 0 ? row.nextElementSibling : row.previousElementSibling;
    while (next) {
      var found = next.querySelector('[data-col="' + col + '"]');
      if (found && !found.disabled) { return found; }
      next = step > 0 ? next.nextElementSibling : next.previousElementSibling;
    }
    return null;
  }

  // In a textarea the arrows move the caret; they leave the cell only from its first/last line.
  function atEdge(el, step) {
    if (el.tagName !== "TEXTAREA") { return true; }
    if (step < 0) { return el.value.lastIndexOf("\n", el.selectionStart - 1) === -1; }
    return el.value.indexOf("\n", el.selectionEnd) === -1;
  }

  function onKeydown(event) {
    var el = event.target;
    if (!isField(el) || event.isComposing || event.keyCode === 229) { return; } // IME: Enter picks characters
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var step = 0;
    if (event.key === "Enter" && !event.shiftKey) { step = 1; }
    else if (event.key === "ArrowDown" && atEdge(el, 1)) { step = 1; }
    else if (event.key === "ArrowUp" && atEdge(el, -1)) { step = -1; }
    if (!step) { return; }
    event.preventDefault();
    var next = target(rowOf(el), step, el.dataset.col);
    if (next) {
      next.focus();
      if (next.tagName !== "SELECT" && next.select) { next.select(); }
    } else if (event.key === "Enter") {
      save(rowOf(el)); // last row: Enter saves in place
    }
  }

  function onEdit(event) {
    if (isField(event.target)) { rowOf(event.target).dataset.dirty = "1"; }
  }

  function onFocusout(event) {
    var row = rowOf(event.target);
    if (!row || !row.dataset.dirty) { return; }
    var next = event.relatedTarget;
    if (next && row.contains(next)) { return; }
    // A click on this row's own 保存/报送 button sends the row itself (Safari gives no relatedTarget).
    if (!next && pointerRow === row) { return; }
    save(row);
  }

  // Forms on the page (filters, 报送本页全部草稿) first let row saves finish, then ask when
  // the grid still has rows whose edits could not be saved.
  function onSubmit(event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-grid-wait]") || form.dataset.leaving) { return; }
    event.preventDefault();
    document.querySelectorAll("#grid tr[data-dirty]").forEach(save);
    var proceed = function () {
      if (busy()) { window.setTimeout(proceed, 100); return; }
      var question = form.dataset.gridConfirm || "";
      var unsaved = document.querySelectorAll("#grid tr[data-unsaved]").length;
      if (unsaved) {
        question = "有 " + unsaved + " 行的修改因错误未能保存，" +
          (question ? "这些行将按已保存的内容处理。\n" + question : "离开本页将丢失这些修改。继续吗？");
      }
      if (question && !window.confirm(question)) { return; }
      form.dataset.leaving = "1";
      form.submit();
    };
    proceed();
  }

  // Filters apply as soon as a select changes.
  function onChange(event) {
    var form = event.target.closest && event.target.closest("form[data-autosubmit]");
    if (form && event.target.tagName === "SELECT") {
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    }
  }

  // The person typed into a row again while its save was under way: keep what they typed (the
  // row stays dirty and saves again on leaving it) and take only the new version and key.
  function keepTyping(event) {
    var row = event.detail.target;
    if (!rowOf(row) || !row.dataset.dirty || !event.detail.serverResponse) { return false; }
    var holder = document.createElement("template");
    holder.innerHTML = event.detail.serverResponse.trim();
    var fresh = holder.content.querySelector("tr[data-report]");
    if (!fresh) { return false; }
    ["version", "key"].forEach(function (name) {
      var from = fresh.querySelector('input[name="' + name + '"]');
      var to = row.querySelector('input[name="' + name + '"]');
      if (from && to) { to.value = from.value; }
    });
    delete row.dataset.saving;
    event.detail.shouldSwap = false;
    return true;
  }

  // Keep the cursor where it was when the row it sits in is re-rendered.
  var keep = null;
  function onBeforeSwap(event) {
    var row = event.detail.target;
    var active = document.activeElement;
    keep = null;
    if (keepTyping(event)) { return; }
    if (row && row.id && active && row.contains(active)) {
      keep = { id: row.id, col: active.dataset.col, testid: active.dataset.testid };
    }
  }

  function onAfterSettle() {
    if (!keep) { return; }
    var row = document.getElementById(keep.id);
    var place = keep;
    keep = null;
    if (!row) { return; }
    var el = place.col ? row.querySelector('[data-col="' + place.col + '"]')
      : row.querySelector('[data-testid="' + place.testid + '"]');
    if (el) { el.focus(); }
  }

  function onBeforeUnload(event) {
    var leaving = document.querySelector("form[data-leaving]");
    if (leaving) { return; }
    if (document.querySelector("#grid tr[data-dirty]") || busy()) {
      event.preventDefault();
      event.returnValue = "";
    }
  }

  // Text cells stay one line high and open up while being typed in; they close a moment after
  // the cursor leaves, so a click that moved the cursor is not lost to the layout shifting.
  document.addEventListener("focusin", function (event) {
    if (isField(event.target) && event.target.tagName === "TEXTAREA") { event.target.rows = 4; }
  });
  document.addEventListener("focusout", function (event) {
    var el = event.target;
    if (!isField(el) || el.tagName !== "TEXTAREA") { return; }
    window.setTimeout(function () {
      if (document.activeElement !== el) { el.rows = 1; }
    }, 300);
  });
  document.addEventListener("keydown", onKeydown);
  document.addEventListener("input", onEdit); // selects fire "input" as well
  document.addEventListener("change", onChange);
  document.addEventListener("focusout", onFocusout);
  document.addEventListener("pointerdown", function (event) { pointerRow = rowOf(event.target); }, true);
  document.addEventListener("keydown", function () { pointerRow = null; }, true);
  document.addEventListener("submit", onSubmit);
  document.addEventListener("htmx:beforeSwap", onBeforeSwap);
  document.addEventListener("htmx:afterSettle", onAfterSettle);
  // A request carries everything the row holds: the row is clean until the next keystroke.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var row = rowOf(event.detail.target);
    if (row) { delete row.dataset.dirty; }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var row = rowOf(event.detail.elt);
    if (row) { delete row.dataset.saving; }
  });
  window.addEventListener("beforeunload", onBeforeUnload);
})();
