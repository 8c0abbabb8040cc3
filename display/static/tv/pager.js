// Shows a list that may not fit its box a page at a time: the items that fit, then the
// next ones every few seconds, with "1/3" in the panel's title. Nothing is ever cut in
// half or scrolled: an item is on a page whole, or waits for the next page.

export const PAGE_SECONDS = 8;

export class Pager {
  // box: the element whose height bounds the list (its children are the items);
  // mark: where "1/3" goes; seconds: time per page.
  constructor({ box, mark, seconds = PAGE_SECONDS }) {
    this.box = box;
    this.mark = mark;
    this.seconds = seconds;
    this.pages = [[]]; // item lists
    this.page = 0;
    this.timer = null;
  }

  // Re-measures the pages (after the items or the box's size changed), keeping the page.
  layout() {
    const items = [...this.box.children].filter((node) => !node.dataset.pagerSkip);
    for (const item of items) item.hidden = false;
    const height = this.box.clientHeight;
    const pages = [];
    let page = [];
    let top = null;
    for (const item of items) {
      const start = item.offsetTop;
      const end = start + item.offsetHeight;
      if (top === null) top = start;
      if (page.length && end - top > height + 0.5) {
        pages.push(page);
        page = [];
        top = start;
      }
      page.push(item);
    }
    pages.push(page);
    this.pages = pages;
    if (this.page >= pages.length) this.page = 0;
    this.show();
    if (pages.length > 1 && !this.timer) {
      this.timer = setInterval(() => this.next(), this.seconds * 1000);
    } else if (pages.length <= 1 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  next() {
    this.page = (this.page + 1) % this.pages.length;
    this.show();
  }

  show() {
    this.pages.forEach((items, i) => {
      for (const item of items) item.hidden = i !== this.page;
    });
    if (this.mark) this.mark.textContent = this.pages.length > 1 ? `${this.page + 1}/${this.pages.length}` : "";
  }
}
