// a21import's page: the live parts only (the apps' refresh, sortable tables, the import's questions and
// rows). Everything that comes from an app or the database is put in with textContent, never as HTML.
"use strict";

(function () {
  const csrf = document.body.dataset.csrf;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
  }

  // Case and Polish letters folded, as the database search does (lukasz finds Łukasz).
  function fold(text) {
    return String(text).toLowerCase().replace(/ł/g, "l").normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function post(url, document) {
    return fetch(url, {method: "POST", credentials: "same-origin",
                       headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                       body: JSON.stringify(document)});
  }

  // -- the apps, looked at again every few seconds ---------------------------------------------------
  const apps = document.getElementById("apps");
  if (apps) {
    let last = apps.innerHTML;
    const refresh = async () => {
      if (document.visibilityState !== "visible") return;
      try {
        const answer = await fetch(apps.dataset.refresh, {credentials: "same-origin"});
        if (!answer.ok) return;
        const html = await answer.text();  // our own server's escaped HTML
        if (html === last) return;
        const focused = document.activeElement && apps.contains(document.activeElement)
          ? document.activeElement.getAttribute("href") : null;
        apps.innerHTML = last = html;
        if (focused) {
          const again = [...apps.querySelectorAll("a")].find((a) => a.getAttribute("href") === focused);
          if (again) again.focus();
        }
      } catch (error) { /* the next round tries again */ }
    };
    refresh();
    setInterval(refresh, 3000);
  }

  // -- the import form: the systems and identities of the chosen app only ---------------------------
  const appSelect = document.getElementById("app");
  if (appSelect) {
    const narrow = () => {
      for (const id of ["source", "identity"]) {
        const select = document.getElementById(id);
        for (const option of select.options) {
          if (!option.dataset.app) continue;
          const fits = !appSelect.value || option.dataset.app === appSelect.value;
          option.hidden = option.disabled = !fits;
          if (!fits && option.selected) select.value = "";
        }
      }
    };
    appSelect.addEventListener("change", narrow);
    narrow();
  }

  // -- sortable tables: a button in each header ---------------------------------------------------------
  function sortKey(cell) {
    const raw = cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
    const number = Number(raw);
    return raw !== "" && !Number.isNaN(number) ? number : fold(raw);
  }

  function makeSortable(table, texts, onSorted) {
    const headers = [...table.tHead.rows[0].cells];
    headers.forEach((th, column) => {
      const label = th.textContent.trim();
      if (!label || th.querySelector("input, .sr")) return;
      const button = el("button", {type: "button", className: "sort", text: label,
                                   "aria-label": format(texts.sort_by || "{column}", {column: label})});
      th.textContent = "";
      th.append(button);
      button.addEventListener("click", () => {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach((other) => other.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        for (const body of table.tBodies) {
          const rows = [...body.rows].filter((row) => !row.classList.contains("group"));
          rows.sort((a, b) => {
            const x = sortKey(a.cells[column]), y = sortKey(b.cells[column]);
            return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
          });
          body.append(...rows);
        }
        if (onSorted) onSorted();
      });
    });
  }

  const textsBlock = document.getElementById("texts");
  const T = textsBlock ? JSON.parse(textsBlock.textContent) : {};
  document.querySelectorAll("table.sortable").forEach((table) => makeSortable(table, T));

  // -- the import ---------------------------------------------------------------------------------------
  const job = document.getElementById("job");
  if (!job) return;
  const question = document.getElementById("question");
  const notes = document.getElementById("notes");
  const rowsBox = document.getElementById("rows-box");
  const rowsBody = document.querySelector("#rows tbody");
  const progressBox = document.getElementById("progress-box");
  const progress = document.getElementById("progress");
  const progressText = document.getElementById("progress-text");
  const outcome = document.getElementById("outcome");
  const FINISHED = ["done", "failed", "not read"];
  let rows = new Map();
  let toRead = 0;
  let asked = null;

  function answer(value) {
    const id = asked;
    question.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    post("/job/answer", {question: id, value}).then((r) => {
      if (!r.ok) question.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    });
  }

  function showQuestion(event) {
    asked = event.id;
    question.textContent = "";
    question.dataset.kind = event.kind;
    question.hidden = false;
    if (event.kind === "confirm") {
      question.append(el("h2", {text: T.confirm_title}), el("p", {id: "context", text: event.text}),
        el("div", {className: "actions"},
          el("button", {type: "button", id: "confirm-yes", text: T.yes_right, onclick: () => answer("yes")}),
          el("button", {type: "button", id: "confirm-no", className: "secondary", text: T.no_other,
                        onclick: () => answer("no")})));
    } else if (event.kind === "switch") {
      question.append(el("h2", {text: T.switch_title}), el("p", {id: "switch-text", className: "warning", text: event.text}),
        el("div", {className: "actions"},
          el("button", {type: "button", id: "look-again", text: T.look_again, onclick: () => answer("again")}),
          el("button", {type: "button", id: "switch-stop", className: "danger", text: T.stop,
                        onclick: () => answer("stop")})));
    } else if (event.kind === "choose") {
      const fieldset = el("fieldset", {}, el("legend", {text: event.text}));
      event.options.forEach((option, i) => {
        fieldset.append(el("label", {className: "choice"},
          el("input", {type: "radio", name: "choice", value: option.value, checked: i === 0}), " " + option.label));
      });
      question.append(fieldset, el("button", {type: "button", id: "choose", text: T.choose, onclick: () => {
        const checked = fieldset.querySelector("input:checked");
        if (checked) answer(checked.value);
      }}));
    } else if (event.kind === "select") {
      showSelection(event.rows);
    }
    const first = question.querySelector("button, input");
    if (first) first.focus();
  }

  function showSelection(listed) {
    const groups = [
      ["new", T.new_policies, listed.filter((r) => r.state === "marked")],
      ["other", T.other_policies, listed.filter((r) => !["marked", "stored"].includes(r.state))],
      ["stored", T.stored_policies, listed.filter((r) => r.state === "stored")],
    ];
    const count = el("span", {id: "chosen-count", role: "status"});
    const filter = el("input", {type: "search", id: "row-filter", "aria-label": T.filter, placeholder: T.filter});
    const boxes = () => [...question.querySelectorAll("tbody input[type=checkbox]:not(:disabled)")];
    const visible = (box) => !box.closest("tr").hidden;
    const update = () => {
      count.textContent = format(T.chosen, {chosen: boxes().filter((b) => b.checked).length,
                                            total: boxes().length});
    };
    const set = (test) => () => { boxes().filter(visible).forEach((b) => { b.checked = test(b); }); update(); };
    const table = el("table", {className: "rows", id: "choice"});
    const headings = ["", "#", T.number, T.insurer, T.issued, T.premium, T.product, T.policyholder, T.status];
    table.append(el("thead", {}, el("tr", {}, ...headings.map((h, i) => el("th", {text: h,
      className: i === 5 ? "num" : null})))));
    for (const [name, title, members] of groups) {
      if (!members.length) continue;
      const body = el("tbody", {"data-group": name});
      body.append(el("tr", {className: "group"}, el("th", {colspan: "9", scope: "rowgroup", text: title})));
      for (const row of members) {
        const box = el("input", {type: "checkbox", value: row.index, checked: row.state === "marked",
                                 disabled: name === "other", "data-new": name === "new" ? "1" : null,
                                 "aria-label": format(T.choose_row, {number: row.number})});
        box.addEventListener("change", update);
        // A new row's checkbox says it all; the others say why they are apart.
        const status = row.state === "marked" ? "" : row.reason ? `${row.state_label}: ${row.reason}` : row.state_label;
        const tr = el("tr", {className: `state-${row.state.replace(" ", "-")}`, "data-key": row.key},
          el("td", {}, box), el("td", {text: row.index}), el("td", {text: row.number}),
          el("td", {text: row.insurer}), el("td", {text: row.issued, "data-sort": row.issued_iso}),
          el("td", {className: "num", text: row.premium, "data-sort": row.premium_gr ?? 0}),
          el("td", {text: row.product}), el("td", {text: row.holder}), el("td", {text: status}));
        tr.dataset.search = fold([row.number, row.insurer, row.product, row.holder, row.issued].join(" "));
        body.append(tr);
      }
      table.append(body);
    }
    filter.addEventListener("input", () => {
      const wanted = fold(filter.value.trim());
      question.querySelectorAll("tbody tr:not(.group)").forEach((tr) => {
        tr.hidden = wanted !== "" && !tr.dataset.search.includes(wanted);
      });
    });
    question.append(el("h2", {text: T.select_title}),
      el("div", {className: "toolbar"},
        el("button", {type: "button", id: "select-all", className: "secondary", text: T.select_all,
                      onclick: set(() => true)}),
        el("button", {type: "button", id: "select-none", className: "secondary", text: T.select_none,
                      onclick: set(() => false)}),
        el("button", {type: "button", id: "select-new", className: "secondary", text: T.select_new,
                      onclick: set((b) => b.dataset.new === "1")}),
        filter, count),
      el("div", {className: "scroll"}, table),
      el("div", {className: "actions"}, el("button", {type: "button", id: "import-chosen", text: T.import_chosen,
        onclick: () => answer(boxes().filter((b) => b.checked).map((b) => Number(b.value)))})));
    makeSortable(table, T);
    update();
  }

  function rowStatus(row) {
    return row.reason ? `${row.state_label}: ${row.reason}` : row.state_label;
  }

  function renderRow(row) {
    let tr = rows.get(row.index);
    if (!tr) {
      tr = el("tr", {"data-index": row.index});
      for (let i = 0; i < 8; i++) tr.append(el("td", {className: i === 4 ? "num" : null}));
      rows.set(row.index, tr);
      rowsBody.append(tr);
    }
    tr.className = `state-${row.state.replace(" ", "-")}`;
    tr.dataset.state = row.state;
    tr.dataset.number = row.number;
    const values = [row.index, row.number, row.insurer, row.issued, row.premium, row.product, row.holder,
                    rowStatus(row)];
    values.forEach((value, i) => { tr.cells[i].textContent = value; });
  }

  function updateProgress() {
    const finished = [...rows.values()].filter((tr) => FINISHED.includes(tr.dataset.state)
      && tr.dataset.counted === "1").length;
    progress.max = Math.max(1, toRead);
    progress.value = finished;
    progressText.textContent = format(T.progress, {done: finished, total: toRead});
  }

  function handle(event) {
    if (event.type === "note") {
      notes.append(el("p", {className: "note", text: event.text}));
    } else if (event.type === "ask") {
      showQuestion(event);
    } else if (event.type === "answered") {
      if (asked === event.id) { question.hidden = true; question.textContent = ""; asked = null; }
    } else if (event.type === "rows") {
      rowsBody.textContent = "";
      rows = new Map();
      toRead = 0;
      for (const row of event.rows) {
        renderRow(row);
        if (row.state === "marked") { toRead += 1; rows.get(row.index).dataset.counted = "1"; }
      }
      rowsBox.hidden = false;
      progressBox.hidden = toRead === 0;
      updateProgress();
    } else if (event.type === "row") {
      renderRow(event.row);
      updateProgress();
    } else if (event.type === "summary") {
      outcome.textContent = event.text || "";
      if (rows.size) (event.rows || []).forEach(renderRow);
      updateProgress();
    } else if (event.type === "end") {
      document.getElementById("stop-form").hidden = true;
      document.getElementById("retry-form").hidden = !event.can_retry;
      if (event.error) outcome.append(el("span", {className: "problem", id: "job-error", text: " " + event.error}));
      job.dataset.finished = "1";
      document.querySelectorAll(".top .badge").forEach((badge) => badge.remove());
      job.dataset.exitCode = event.exit_code;
      question.hidden = true;
      source.close();
    }
  }

  const source = new EventSource(job.dataset.events);
  source.addEventListener("job", (message) => {
    if (String(JSON.parse(message.data).id) !== job.dataset.job) window.location.reload();
  });
  source.onmessage = (message) => handle(JSON.parse(message.data));
})();
