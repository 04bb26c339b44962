// The managers' and caseworkers' console: a plain ES module over the
// public API (/api/v1). Every value from the API is put on the page as
// text (textContent, createElement); nothing here builds HTML from data.
// The access token lives in this module's memory only: a reload or
// 退出登录 forgets it.

const API = '/api/v1';
const TZ = document.querySelector('meta[name="community-time-zone"]')?.content || 'Asia/Shanghai';

const LABELS = {
  status: { open: '待分派', assigned: '已分派', in_progress: '进行中', completed: '已完成', cancelled: '已取消' },
  category: {
    home_visit: '上门探访', companionship: '陪伴', housekeeping: '家务', meal_delivery: '送餐',
    medical_escort: '陪同就医', shopping: '代购', repair: '维修', tutoring: '课业辅导',
    psychological_support: '心理疏导', legal_aid: '法律援助', other: '其他',
  },
  kind: { lei_feng: '学雷锋志愿服务队', neighborhood_watch: '邻里守望', party_member: '在职党员进社区', professional: '专业志愿服务队', other: '其他' },
  resident: { elderly_alone: '空巢老人', disabled: '残疾人', left_behind_child: '留守儿童', migrant_worker: '农民工', other: '其他' },
  urgency: { low: '低', normal: '一般', high: '高', urgent: '紧急' },
  role: { volunteer: '志愿者', caseworker: '社工', manager: '管理人员', admin: '管理员' },
  account: { active: '正常', disabled: '已停用' },
};
const label = (kind, code) => (code == null ? '' : LABELS[kind][code] || String(code));

// ---- session (memory only) ----
let session = null; // {token, user}
let flash = null; // a message for the next page shown

// ---- small DOM helpers: text only ----
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}
function append(el, children) {
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}
const $ = (sel) => document.querySelector(sel);
const view = () => $('#view');

function notice(text, ok = false) {
  const n = $('#notice');
  n.textContent = text || '';
  n.hidden = !text;
  n.classList.toggle('ok', ok);
}

// ---- API ----
class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `请求失败（${status}）`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

async function api(path, { method = 'GET', body, raw = false } = {}) {
  const headers = {};
  if (session) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401 && session) {
    logout('登录已过期，请重新登录。');
    throw new ApiError(401, null);
  }
  if (!res.ok) {
    let parsed = null;
    try { parsed = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, parsed);
  }
  if (raw) return res;
  return res.status === 204 ? null : res.json();
}

/** Every item of a paged list, following `next_cursor` up to `max` items. */
async function all(path, max = 2000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api(`${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v != null && v !== '')).toString();

// ---- dates in the community's zone ----
function localDate(d = new Date()) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}
function addMonths(ym, n) {
  const [y, m] = ym.split('-').map(Number);
  const t = y * 12 + (m - 1) + n;
  return `${Math.floor(t / 12)}-${String((t % 12) + 1).padStart(2, '0')}`;
}
function monthEnd(ym) {
  const [y, m] = ym.split('-').map(Number);
  return `${ym}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, '0')}`;
}
function shiftDate(date, days) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
function showTime(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(iso));
}
/** The zone's offset at a local date-time, as `+08:00`. */
function offsetAt(localDateTime) {
  const guess = new Date(`${localDateTime}:00Z`);
  const name = new Intl.DateTimeFormat('en-US', { timeZone: TZ, timeZoneName: 'longOffset' })
    .formatToParts(guess).find((p) => p.type === 'timeZoneName')?.value || 'GMT';
  const m = name.match(/GMT([+-]\d{2}):?(\d{2})?/);
  return m ? `${m[1]}:${m[2] || '00'}` : '+00:00';
}
const rfc3339 = (localDateTime) => `${localDateTime}:00${offsetAt(localDateTime)}`;
const hours = (n) => (Math.round(n * 100) / 100).toString();

// ---- login / logout ----
function showLogin(message) {
  $('#nav').hidden = true;
  $('#who').hidden = true;
  $('#who-name').textContent = '';
  const v = view();
  v.replaceChildren();
  v.removeAttribute('data-view');
  v.removeAttribute('data-loaded');
  const form = h('form', { id: 'login', class: 'card narrow' },
    h('h2', {}, '登录'),
    h('label', {}, '手机号 ', h('input', { name: 'phone', type: 'tel', autocomplete: 'username', required: true })),
    h('label', {}, '密码 ', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('button', { type: 'submit', id: 'login-submit' }, '登录'),
    h('p', { class: 'hint' }, '供社工和社区管理人员使用。刷新页面后需重新登录。'));
  form.addEventListener('submit', onLogin);
  v.append(form);
  notice(message);
}

async function onLogin(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const phone = form.elements.phone.value.trim();
  const password = form.elements.password.value;
  try {
    const answer = await api('/auth/login', { method: 'POST', body: { phone, password } });
    if (!['caseworker', 'manager', 'admin'].includes(answer.user.role)) {
      notice('此控制台仅供社工和社区管理人员使用。');
      return;
    }
    session = { token: answer.access_token, user: answer.user };
    notice('');
    $('#who-name').textContent = `${answer.user.name}（${label('role', answer.user.role)}）`;
    $('#who').hidden = false;
    buildNav();
    const target = location.hash.slice(2) ? location.hash : `#/${isManager() ? 'dashboard' : 'requests'}`;
    if (location.hash === target) route(); else location.hash = target;
  } catch (e) {
    notice(e.code === 'invalid_credentials' ? '手机号或密码错误。' : e.message);
  }
}

function logout(message) {
  session = null;
  history.replaceState(null, '', location.pathname);
  showLogin(message || '已退出登录。');
}

const isManager = () => session && ['manager', 'admin'].includes(session.user.role);

// ---- navigation ----
const PAGES = {
  dashboard: { title: '概览', manager: true, render: dashboard },
  approvals: { title: '待审核时长', manager: true, render: approvals },
  exports: { title: '导出', manager: true, render: exportsPage },
  volunteers: { title: '志愿者', manager: true, render: volunteers },
  requests: { title: '服务需求', render: requestsPage },
  'new-request': { title: '发布需求', render: newRequest },
  request: { title: '需求详情', hidden: true, render: requestDetail },
  residents: { title: '服务对象', render: residentsPage },
  pairings: { title: '结对帮扶', render: pairingsPage },
  campaigns: { title: '专项活动', render: campaignsPage },
};

function buildNav() {
  const nav = $('#nav');
  nav.replaceChildren();
  let managerDone = false;
  for (const [key, page] of Object.entries(PAGES)) {
    if (page.hidden || (page.manager && !isManager())) continue;
    if (!page.manager && isManager() && !managerDone) { nav.append(h('span', { class: 'sep' })); managerDone = true; }
    nav.append(h('a', { href: `#/${key}`, 'data-page': key }, page.title));
  }
  nav.hidden = false;
}

async function route() {
  if (!session) return showLogin();
  const [key, arg] = location.hash.replace(/^#\//, '').split('/');
  const name = PAGES[key] && (!PAGES[key].manager || isManager()) ? key : (isManager() ? 'dashboard' : 'requests');
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('current', a.dataset.page === name);
  const v = view();
  v.replaceChildren(h('p', { class: 'empty' }, '加载中…'));
  v.dataset.view = name;
  v.removeAttribute('data-loaded');
  notice('');
  try {
    const content = await PAGES[name].render(arg && decodeURIComponent(arg));
    if (!session || v.dataset.view !== name) return; // logged out or moved on meanwhile
    v.replaceChildren(...[content].flat());
    v.dataset.loaded = 'true';
    if (flash) { notice(flash, true); flash = null; }
  } catch (e) {
    if (!session) return;
    v.replaceChildren(h('p', { class: 'empty' }, '无法加载。'));
    notice(e.message);
  }
}

function table(headers, rows, empty = '暂无记录') {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('table', {},
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { class: t.endsWith(' ') ? 'num' : null }, t.trim())))),
    h('tbody', {}, rows));
}

// ---- charts: plain SVG bars ----
const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text != null) el.textContent = String(text);
  return el;
}

/** Vertical bars: one per point, labels under, values above. */
function columnChart(id, title, points) {
  const W = 420, H = 220, top = 20, bottom = 30, left = 4;
  const max = Math.max(1, ...points.map((p) => p.value));
  const step = (W - left * 2) / Math.max(1, points.length);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title });
  svg.append(s('line', { x1: left, y1: H - bottom, x2: W - left, y2: H - bottom, class: 'axis' }));
  points.forEach((p, i) => {
    const height = ((H - top - bottom) * p.value) / max;
    const x = left + i * step;
    const bar = s('rect', { x: x + step * 0.15, y: H - bottom - height, width: step * 0.7, height, class: 'bar' });
    bar.append(s('title', {}, `${p.label}：${hours(p.value)} 小时`));
    svg.append(bar,
      s('text', { x: x + step / 2, y: H - bottom - height - 4, 'text-anchor': 'middle', class: 'value' }, p.value ? hours(p.value) : ''),
      s('text', { x: x + step / 2, y: H - bottom + 16, 'text-anchor': 'middle' }, p.label));
  });
  return h('section', { class: 'card chart', id }, h('h3', {}, title), svg);
}

/** Horizontal bars: one row per point. */
function barChart(id, title, points) {
  const W = 420, row = 26, labelW = 120, valueW = 70;
  const H = Math.max(1, points.length) * row + 10;
  const max = Math.max(1, ...points.map((p) => p.value));
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title });
  if (!points.length) svg.append(s('text', { x: 0, y: 20 }, '暂无已审核时长'));
  points.forEach((p, i) => {
    const y = 5 + i * row;
    const width = ((W - labelW - valueW) * p.value) / max;
    const bar = s('rect', { x: labelW, y: y + 4, width, height: row - 10, class: 'bar' });
    bar.append(s('title', {}, `${p.label}：${hours(p.value)} 小时`));
    svg.append(s('text', { x: labelW - 6, y: y + row / 2 + 3, 'text-anchor': 'end' }, p.label), bar,
      s('text', { x: labelW + width + 6, y: y + row / 2 + 3, class: 'value' }, `${hours(p.value)} 小时`));
  });
  return h('section', { class: 'card chart', id }, h('h3', {}, title), svg);
}

// ---- manager pages ----
const stats = (group_by, from, to) => api(`/stats/service-hours?${q({ group_by, from, to })}`);

async function dashboard() {
  const today = localDate();
  const month = today.slice(0, 7);
  const year = today.slice(0, 4);
  const monthFrom = `${month}-01`, monthTo = monthEnd(month);
  const yearFrom = `${year}-01-01`, yearTo = `${year}-12-31`;
  const firstMonth = addMonths(month, -11);
  const now = Date.now();
  const [monthHours, yearHours, monthVolunteers, yearVolunteers, byMonth, byTeam, byResident, teams, monthRequests, soon] =
    await Promise.all([
      stats('month', monthFrom, monthTo), stats('month', yearFrom, yearTo),
      stats('volunteer', monthFrom, monthTo), stats('volunteer', yearFrom, yearTo),
      stats('month', `${firstMonth}-01`, monthTo), stats('team', yearFrom, yearTo),
      stats('resident_category', yearFrom, yearTo), all('/teams'),
      // Counted by the server: the page shows numbers, not the requests.
      api(`/stats/requests?${q({ from: monthFrom, to: monthTo })}`),
      all(`/requests?${q({ from: today, to: shiftDate(today, 2) })}`),
    ]);

  const figure = (id, title, value, unit) => h('div', {}, h('dt', {}, title), h('dd', { id }, value, unit ? h('small', {}, ` ${unit}`) : null));
  const byStatus = monthRequests.by_status;
  const figures = h('dl', { class: 'figures', id: 'figures' },
    figure('fig-month-hours', `本月服务时长（${month}）`, hours(monthHours.total_hours), '小时'),
    figure('fig-year-hours', `本年服务时长（${year}）`, hours(yearHours.total_hours), '小时'),
    figure('fig-month-volunteers', '本月参与志愿者', monthVolunteers.items.length, '人'),
    figure('fig-year-volunteers', '本年参与志愿者', yearVolunteers.items.length, '人'),
    ...Object.keys(LABELS.status).map((st) => figure(`fig-requests-${st}`, `本月需求·${label('status', st)}`, byStatus[st] || 0, '件')));

  const monthly = new Map(byMonth.items.map((i) => [i.key, i.hours]));
  const months = Array.from({ length: 12 }, (_, i) => addMonths(firstMonth, i));
  const kindOf = new Map(teams.map((t) => [t.id, t.kind]));
  const kinds = {};
  for (const item of byTeam.items) {
    const kind = kindOf.get(item.key) || 'other';
    kinds[kind] = (kinds[kind] || 0) + item.minutes / 60;
  }
  const charts = h('div', { class: 'charts' },
    columnChart('chart-months', '近 12 个月服务时长（小时）', months.map((m) => ({ label: `${Number(m.slice(5))}月`, value: monthly.get(m) || 0 }))),
    barChart('chart-kinds', `${year} 年按队伍类型`, Object.entries(kinds).sort((a, b) => b[1] - a[1]).map(([k, v]) => ({ label: label('kind', k), value: v }))),
    barChart('chart-residents', `${year} 年按服务对象类别`, byResident.items.map((i) => ({ label: i.label || label('resident', i.key), value: i.hours }))));

  const upcoming = soon
    .filter((r) => ['open', 'assigned'].includes(r.status) && r.places_left > 0)
    .filter((r) => { const t = Date.parse(r.starts_at); return t >= now && t <= now + 48 * 3600 * 1000; })
    .sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at));
  const soonTable = table(['开始时间', '需求', '服务对象', '状态', '还缺 '],
    upcoming.map((r) => h('tr', {},
      h('td', {}, showTime(r.starts_at)),
      h('td', {}, h('a', { href: `#/request/${r.id}` }, r.title)),
      h('td', {}, r.resident ? r.resident.masked_name : '社区活动'),
      h('td', {}, label('status', r.status)),
      h('td', { class: 'num' }, `${r.places_left} 人`))), '48 小时内没有缺人的需求');

  return [
    figures,
    charts,
    h('section', { class: 'card', id: 'soon' }, h('h2', {}, '48 小时内开始、仍缺人的需求'), soonTable),
  ];
}

async function approvals() {
  const records = await all('/service-records?status=pending', 500);
  const reason = h('input', { id: 'reject-reason', placeholder: '驳回原因（驳回时必填）', maxlength: 500, size: 30 });
  const boxes = [];
  const act = async (ids, action) => {
    if (!ids.length) return notice('请先勾选记录。');
    const why = reason.value.trim();
    if (action === 'reject' && !why) { reason.focus(); return notice('请填写驳回原因。'); }
    const failed = [];
    for (const id of ids) {
      try {
        await api(`/service-records/${id}/${action}`, { method: 'POST', body: action === 'reject' ? { reason: why } : {} });
      } catch (e) {
        if (!session) return;
        failed.push(e.message);
      }
    }
    await route();
    const done = ids.length - failed.length;
    notice(`${action === 'approve' ? '已通过' : '已驳回'} ${done} 条${failed.length ? `；${failed.length} 条失败：${failed.join('；')}` : ''}`, !failed.length);
  };
  const checked = () => boxes.filter((b) => b.checked).map((b) => b.value);
  const rows = records.map((r) => {
    const box = h('input', { type: 'checkbox', value: r.id, 'aria-label': `选择 ${r.volunteer_name}` });
    boxes.push(box);
    return h('tr', { 'data-record': r.id },
      h('td', {}, box),
      h('td', {}, r.volunteer_name),
      h('td', {}, r.activity?.content || r.activity?.name || ''),
      h('td', {}, showTime(r.started_at)),
      h('td', { class: 'num' }, r.hours != null ? `${hours(r.hours)} 小时` : ''),
      h('td', {}, r.source === 'paper' ? '补录' : '签到', r.location_flagged ? h('span', { class: 'flag' }, ' ⚠ 签到位置偏远') : null),
      h('td', {},
        h('button', { type: 'button', class: 'approve', on: { click: () => act([r.id], 'approve') } }, '通过'), ' ',
        h('button', { type: 'button', class: 'light reject', on: { click: () => act([r.id], 'reject') } }, '驳回')));
  });
  const all_ = h('input', { type: 'checkbox', 'aria-label': '全选', on: { change: (e) => boxes.forEach((b) => { b.checked = e.target.checked; }) } });
  return h('section', { class: 'card', id: 'queue' },
    h('h2', {}, `待审核服务时长（${records.length} 条）`),
    h('div', { class: 'toolbar' },
      h('label', { class: 'inline' }, all_, ' 全选'),
      h('button', { type: 'button', id: 'approve-selected', on: { click: () => act(checked(), 'approve') } }, '通过所选'),
      reason,
      h('button', { type: 'button', class: 'light', id: 'reject-selected', on: { click: () => act(checked(), 'reject') } }, '驳回所选')),
    records.length
      ? table(['', '志愿者', '服务内容', '开始时间', '时长 ', '来源', ''], rows)
      : h('p', { class: 'empty', id: 'queue-empty' }, '没有待审核的记录'));
}

async function exportsPage() {
  const today = localDate();
  const from = h('input', { type: 'date', id: 'export-from', value: `${today.slice(0, 7)}-01` });
  const to = h('input', { type: 'date', id: 'export-to', value: today });
  const download = async (format) => {
    try {
      const res = await api(`/exports/service-hours?${q({ format, from: from.value, to: to.value })}`, { raw: true });
      const blob = await res.blob();
      const disposition = res.headers.get('Content-Disposition') || '';
      const name = disposition.match(/filename="?([^";]+)"?/)?.[1] || `service-hours.${format}`;
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      notice(`已下载 ${name}`, true);
    } catch (e) {
      if (session) notice(e.message);
    }
  };
  return h('section', { class: 'card', id: 'exports' },
    h('h2', {}, '导出已审核服务时长'),
    h('div', { class: 'toolbar' },
      h('label', { class: 'inline' }, '从 ', from), h('label', { class: 'inline' }, '到 ', to),
      h('button', { type: 'button', id: 'export-csv', on: { click: () => download('csv') } }, '导出 CSV'),
      h('button', { type: 'button', id: 'export-xlsx', on: { click: () => download('xlsx') } }, '导出 Excel')),
    h('p', { class: 'hint' }, '日期按服务开始的日期计算（含首尾两天）。'));
}

async function volunteers(arg) {
  const term = arg || '';
  const people = await all(`/users?${q({ role: 'volunteer', q: term })}`, 300);
  const search = h('input', { type: 'search', id: 'volunteer-search', value: term, placeholder: '姓名或手机号' });
  const form = h('form', { class: 'toolbar', on: { submit: (e) => { e.preventDefault(); location.hash = `#/volunteers/${encodeURIComponent(search.value.trim())}`; } } },
    search, h('button', { type: 'submit' }, '搜索'));
  const rows = people.map((u) => {
    const until = h('input', { type: 'date', value: u.vetted_until || '' });
    const save = async () => {
      try {
        await api(`/users/${u.id}/vetting`, { method: 'PUT', body: { vetted_until: until.value || null, note: '控制台登记' } });
        notice(`已更新 ${u.name} 的审查有效期`, true);
      } catch (e) { if (session) notice(e.message); }
    };
    const toggle = async () => {
      try {
        await api(`/users/${u.id}/${u.status === 'disabled' ? 'enable' : 'disable'}`, { method: 'POST', body: {} });
        await route();
      } catch (e) { if (session) notice(e.message); }
    };
    return h('tr', {},
      h('td', {}, u.name), h('td', {}, u.phone), h('td', { class: 'num' }, hours(u.approved_hours)),
      h('td', {}, '★'.repeat(u.star_level)), h('td', {}, label('account', u.status)),
      h('td', {}, until, ' ', h('button', { type: 'button', class: 'light', on: { click: save } }, '保存')),
      h('td', {}, h('button', { type: 'button', class: 'light', on: { click: toggle } }, u.status === 'disabled' ? '启用' : '停用')));
  });
  return h('section', { class: 'card', id: 'volunteers' }, h('h2', {}, '志愿者'), form,
    table(['姓名', '手机号', '累计时长 ', '星级', '状态', '背景审查有效至', ''], rows, '没有符合条件的志愿者'));
}

// ---- caseworker pages ----
async function requestsPage() {
  let items = await all('/requests', 500);
  if (!isManager()) items = items.filter((r) => r.caseworker_id === session.user.id);
  const rows = items.map((r) => h('tr', {},
    h('td', {}, h('a', { href: `#/request/${r.id}` }, r.title)),
    h('td', {}, r.resident ? r.resident.masked_name : '社区活动'),
    h('td', {}, label('category', r.category)),
    h('td', {}, showTime(r.starts_at)),
    h('td', {}, label('status', r.status)),
    h('td', { class: 'num' }, `${r.signups_count}/${r.volunteers_needed}`)));
  return h('section', { class: 'card', id: 'requests' },
    h('h2', {}, isManager() ? '全部服务需求' : '我发布的服务需求'),
    h('p', {}, h('a', { href: '#/new-request' }, '＋ 发布新需求')),
    table(['需求', '服务对象', '类别', '开始时间', '状态', '报名 '], rows, '还没有需求'));
}

function options(kind, selected) {
  return Object.entries(LABELS[kind]).map(([code, text]) => h('option', { value: code, selected: code === selected }, text));
}

/**
 * The resident picker: a search box whose answers (at most 20, from
 * `GET /residents?q=`) fill the list. Nothing is loaded before the
 * caseworker types, so the access log names only the residents a search
 * found. `data-term` on the list says which search it shows.
 */
function residentPicker() {
  const hint = (text) => h('option', { value: '' }, text);
  const list = h('select', { name: 'resident_id', required: true }, hint('请先输入姓名或电话搜索'));
  const search = h('input', { type: 'search', id: 'resident-search', placeholder: '姓名或电话', autocomplete: 'off', maxlength: 50 });
  let asked = 0;
  let timer = null;
  const find = async () => {
    const term = search.value.trim();
    const mine = ++asked;
    if (!term) {
      list.replaceChildren(hint('请先输入姓名或电话搜索'));
      list.removeAttribute('data-term');
      return;
    }
    try {
      const found = await api(`/residents?${q({ q: term, active: true, limit: 20 })}`);
      if (mine !== asked) return; // a later search is on its way
      list.replaceChildren(...(found.items.length
        ? found.items.map((r) => h('option', { value: r.id }, `${r.name}（${label('resident', r.category)}）`))
        : [hint('没有找到，请换个写法')]));
      list.dataset.term = term;
    } catch (e) { if (session) notice(e.message); }
  };
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(find, 250); });
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); clearTimeout(timer); find(); } });
  return h('span', { class: 'picker' }, search, ' ', list, h('small', { class: 'hint' }, ' 最多列出 20 位'));
}

async function newRequest() {
  const today = localDate();
  const field = (text, input) => h('label', {}, text, ' ', input);
  const form = h('form', { class: 'card', id: 'new-request' },
    h('h2', {}, '发布服务需求'),
    h('div', { class: 'grid2' },
      field('服务对象', residentPicker()),
      field('服务类别', h('select', { name: 'category' }, options('category', 'home_visit'))),
      field('标题', h('input', { name: 'title', required: true, maxlength: 100 })),
      field('紧急程度', h('select', { name: 'urgency' }, options('urgency', 'normal'))),
      field('开始', h('input', { name: 'starts_at', type: 'datetime-local', required: true, value: `${shiftDate(today, 1)}T09:00` })),
      field('结束', h('input', { name: 'ends_at', type: 'datetime-local', required: true, value: `${shiftDate(today, 1)}T11:00` })),
      field('需要人数', h('input', { name: 'volunteers_needed', type: 'number', min: 1, value: 2, required: true }))),
    field('说明', h('textarea', { name: 'description' })),
    h('button', { type: 'submit' }, '发布并查看匹配队伍'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = form.elements;
    try {
      const created = await api('/requests', {
        method: 'POST',
        body: {
          resident_id: f.resident_id.value, category: f.category.value, title: f.title.value.trim(),
          description: f.description.value.trim(), starts_at: rfc3339(f.starts_at.value), ends_at: rfc3339(f.ends_at.value),
          volunteers_needed: Number(f.volunteers_needed.value), urgency: f.urgency.value,
        },
      });
      flash = '需求已发布，请在下方选择队伍分派。';
      location.hash = `#/request/${created.id}`;
    } catch (err) { if (session) notice(err.message); }
  });
  return form;
}

async function requestDetail(id) {
  const r = await api(`/requests/${encodeURIComponent(id)}`);
  const canAssign = ['open', 'assigned'].includes(r.status) && (isManager() || r.caseworker_id === session.user.id);
  const matches = canAssign ? (await api(`/requests/${encodeURIComponent(id)}/matches`)).items : [];
  const assign = async (team) => {
    try {
      await api(`/requests/${r.id}/assign`, { method: 'POST', body: { team_id: team.id } });
      await route();
      notice(`已分派给 ${team.name}`, true);
    } catch (e) { if (session) notice(e.message); }
  };
  const info = h('section', { class: 'card', id: 'request' },
    h('h2', {}, r.title),
    h('dl', { class: 'grid2' },
      h('div', {}, h('dt', {}, '服务对象'), h('dd', {}, r.resident ? `${r.resident.masked_name}（${label('resident', r.resident.category)}）` : '社区活动')),
      h('div', {}, h('dt', {}, '类别'), h('dd', {}, label('category', r.category))),
      h('div', {}, h('dt', {}, '时间'), h('dd', {}, `${showTime(r.starts_at)} 至 ${showTime(r.ends_at)}`)),
      h('div', {}, h('dt', {}, '状态'), h('dd', { id: 'request-status' }, label('status', r.status))),
      h('div', {}, h('dt', {}, '报名'), h('dd', {}, `${r.signups_count}/${r.volunteers_needed}`)),
      h('div', {}, h('dt', {}, '紧急程度'), h('dd', {}, label('urgency', r.urgency)))),
    r.description ? h('p', {}, r.description) : null);
  if (!canAssign) return info;
  const rows = matches.map((m, i) => h('tr', { 'data-team': m.team.id },
    h('td', { class: 'num' }, i + 1),
    h('td', {}, m.team.name, r.team_id === m.team.id ? h('strong', {}, '（当前分派）') : null),
    h('td', {}, label('kind', m.team.kind)),
    h('td', { class: 'num' }, m.score.toFixed(2)),
    h('td', { class: 'num' }, `${m.distance_km.toFixed(1)} km`),
    h('td', {}, h('ul', { class: 'reasons' }, m.reasons.map((reason) => h('li', { 'data-code': reason.code }, reason.text)))),
    h('td', {}, h('button', { type: 'button', class: 'assign', disabled: r.team_id === m.team.id, on: { click: () => assign(m.team) } }, '分派'))));
  return [info, h('section', { class: 'card', id: 'matches' }, h('h2', {}, '匹配队伍（按匹配度排序）'),
    table(['#', '队伍', '类型', '匹配度 ', '距离 ', '理由', ''], rows, '没有符合条件的队伍'))];
}

async function residentsPage() {
  const items = await all('/residents', 1000);
  const rows = items.map((r) => h('tr', {},
    h('td', { class: 'name' }, r.name), h('td', {}, label('resident', r.category)), h('td', {}, r.address),
    h('td', {}, r.phone || ''), h('td', {}, r.active ? '在册' : '已退出')));
  return h('section', { class: 'card', id: 'residents' }, h('h2', {}, '服务对象'),
    table(['姓名', '类别', '地址', '电话', '状态'], rows, '还没有服务对象'));
}

async function pairingsPage() {
  const items = await all('/pairings', 500);
  const rows = items.map((p) => h('tr', {},
    h('td', {}, p.title), h('td', {}, p.resident ? p.resident.masked_name : ''),
    h('td', {}, label('category', p.category)), h('td', {}, `${p.rrule} ${p.start_time}`),
    h('td', {}, p.next_occurrence_at ? showTime(p.next_occurrence_at) : ''),
    h('td', { class: 'num' }, `${p.visits_completed} / ${p.visits_missed}`),
    h('td', { class: 'num' }, hours(p.approved_hours)), h('td', {}, p.active ? '进行中' : '已结束')));
  return h('section', { class: 'card', id: 'pairings' }, h('h2', {}, '结对帮扶'),
    table(['名称', '服务对象', '类别', '周期', '下次上门', '完成/缺席 ', '时长 ', '状态'], rows, '还没有结对'));
}

async function campaignsPage() {
  const items = await all('/campaigns', 500);
  const rows = items.map((c) => h('tr', {},
    h('td', {}, c.name), h('td', {}, c.title), h('td', {}, `${showTime(c.starts_at)} 至 ${showTime(c.ends_at)}`),
    h('td', { class: 'num' }, c.requests), h('td', { class: 'num' }, c.volunteers), h('td', { class: 'num' }, hours(c.approved_hours))));
  return h('section', { class: 'card', id: 'campaigns' }, h('h2', {}, '专项活动'),
    table(['活动', '需求标题', '时间', '需求数 ', '参与志愿者 ', '时长 '], rows, '还没有专项活动'));
}

// ---- start ----
$('#logout').addEventListener('click', () => logout());
window.addEventListener('hashchange', route);
showLogin();
