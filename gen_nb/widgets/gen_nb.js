// gen_nb's anywidget views: the render gallery and the save-to-your-computer link.
// Plain ES module, no build step, no CDN, no front-end-specific APIs (JupyterLab, Notebook 7,
// Voila and VS Code all run anywidget modules). Text goes in with textContent (never
// innerHTML), URLs only when they are http(s) or built here from the page's own address.

const HTTP = /^https?:\/\//i;

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// --- gallery ----------------------------------------------------------------------------------

function tile(model, t, isCurrent, isChecked) {
  const card = make("div", "gen-nb-tile" + (isCurrent ? " gen-nb-current" : "")
    + (isChecked ? " gen-nb-checked" : ""));
  card.tabIndex = 0;
  card.title = t.label;
  card.dataset.renderId = t.id;
  card.setAttribute("role", "button");
  card.setAttribute("aria-pressed", String(isCurrent));
  const media = make("div", "gen-nb-media");
  if (t.thumb && HTTP.test(t.thumb)) {
    const img = make("img");
    img.loading = "lazy";
    img.alt = "";
    img.src = t.thumb;
    media.append(img);
  } else {
    media.classList.add("gen-nb-placeholder");
    media.append(make("span", "gen-nb-placeholder-text", t.placeholder));
  }
  media.append(make("span", "gen-nb-badge gen-nb-badge-" + t.tone, t.state));
  const title = make("div", "gen-nb-title", t.title);
  title.title = t.title;
  const meta = make("div", "gen-nb-meta", t.meta);
  meta.title = t.meta;
  const pick = make("label", "gen-nb-check");
  const box = make("input");
  box.type = "checkbox";
  box.checked = isChecked;
  box.setAttribute("aria-label", "Add to the selection: " + t.title);
  box.addEventListener("click", (event) => {
    event.stopPropagation();
    const ids = model.get("checked").filter((id) => id !== t.id);
    if (box.checked) ids.push(t.id);
    model.set("checked", ids);
    model.save_changes();
  });
  pick.addEventListener("click", (event) => event.stopPropagation());
  pick.append(box, make("span", "", "select"));
  card.addEventListener("click", () => {
    model.set("current", t.id);
    model.save_changes();
  });
  card.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      card.click();
    }
  });
  card.append(media, title, meta, pick);
  return card;
}

function gallery(model, el) {
  el.classList.add("gen-nb-gallery");
  const grid = make("div", "gen-nb-grid");
  const pager = make("div", "gen-nb-pager");
  const prev = make("button", "gen-nb-page-button", "◀ Prev");
  const next = make("button", "gen-nb-page-button", "Next ▶");
  const caption = make("span", "gen-nb-page-caption");
  pager.append(prev, caption, next);
  el.append(grid, pager);
  const turn = (step) => {
    const page = model.get("page") + step;
    if (page < 0 || page >= model.get("pages")) return;
    model.set("page", page);
    model.save_changes();
  };
  prev.addEventListener("click", () => turn(-1));
  next.addEventListener("click", () => turn(1));
  const draw = () => {
    const current = model.get("current");
    const checked = new Set(model.get("checked"));
    const tiles = model.get("tiles");
    grid.replaceChildren(...tiles.map((t) => tile(model, t, t.id === current, checked.has(t.id))));
    if (!tiles.length) grid.append(make("div", "gen-nb-empty", model.get("empty")));
    caption.textContent = model.get("caption");
    prev.disabled = model.get("page") <= 0;
    next.disabled = model.get("page") >= model.get("pages") - 1;
  };
  const events = ["tiles", "current", "checked", "caption", "pages"].map((n) => "change:" + n);
  events.forEach((name) => model.on(name, draw));
  draw();
  return () => events.forEach((name) => model.off(name, draw));
}

// --- save link --------------------------------------------------------------------------------

function pageConfig() {
  const node = document.getElementById("jupyter-config-data");
  try {
    return node ? JSON.parse(node.textContent) : {};
  } catch (error) {
    return {};
  }
}

function dirname(path) {
  const cut = path.lastIndexOf("/");
  return cut < 0 ? "" : path.slice(0, cut);
}

// [files route prefix, the notebook's folder (URL-encoded)] for the page we are in, or null
// where Jupyter's files route does not exist (VS Code, a static HTML export).
export function filesRoute(pathname, config) {
  let base = config.baseUrl || document.body.dataset.baseUrl || "/";
  if (!base.endsWith("/")) base += "/";
  const rest = pathname.startsWith(base) ? pathname.slice(base.length) : pathname.slice(1);
  let found = rest.match(/^(?:lab|doc)(?:\/workspaces\/[^/]+)?\/tree\/(.+)$/)
    || rest.match(/^notebooks\/(.+)$/);
  if (found) return [base + "files/", dirname(found[1])];
  found = rest.match(/^voila\/render\/(.+)$/);
  if (found) return [base + "voila/files/", dirname(found[1])];
  if (config.appUrl === "voila/") return [base + "voila/files/", ""];
  return null;
}

export function fileHref(relative, route) {
  if (!route) return null;
  const parts = route[1] ? route[1].split("/").map((p) => decodeURIComponent(p)) : [];
  for (const segment of relative.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (!parts.length) return null;
      parts.pop();
    } else {
      parts.push(segment);
    }
  }
  return route[0] + parts.map((p) => encodeURIComponent(p)).join("/");
}

function saveLink(model, el) {
  el.classList.add("gen-nb-save");
  const draw = () => {
    const route = filesRoute(window.location.pathname, pageConfig());
    const rows = model.get("files").map((file) => {
      const row = make("div", "gen-nb-save-row");
      const href = file.rel ? fileHref(file.rel, route) : null;
      if (href) {
        const link = make("a", "gen-nb-save-file", "⬇ Save " + file.name + " (" + file.size
          + ") to your computer");
        link.href = href;
        link.download = file.name;
        link.dataset.path = file.rel;
        row.append(link);
      } else {
        row.append(make("span", "gen-nb-save-where", file.name + " (" + file.size + ") is at "
          + file.where));
      }
      if (file.remote && HTTP.test(file.remote)) {
        row.append(make("span", "", " · "));
        const cdn = make("a", "gen-nb-save-remote", "or from its URL");
        cdn.href = file.remote;
        cdn.target = "_blank";
        cdn.rel = "noopener noreferrer";
        cdn.title = "Opens the file's own URL: works when the kernel runs on another machine";
        row.append(cdn);
      }
      return row;
    });
    el.replaceChildren(...rows);
    if (model.get("note")) el.append(make("div", "gen-nb-save-note", model.get("note")));
  };
  model.on("change:files", draw);
  model.on("change:note", draw);
  draw();
  return () => {
    model.off("change:files", draw);
    model.off("change:note", draw);
  };
}

export default {
  render({ model, el }) {
    return model.get("view") === "save" ? saveLink(model, el) : gallery(model, el);
  },
};
