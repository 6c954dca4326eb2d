/**
 * A table whose columns sort from the keyboard or the mouse (a button in
 * each header, `aria-sort` on the column) and whose rows follow the filter
 * box. Rows are rebuilt on every refresh; the headers, and the focus on
 * them, stay.
 */

export type SortValue = number | string

export interface Column<Row> {
  readonly label: string
  /** Longer words for the header's tooltip and screen readers. */
  readonly description?: string
  /** Missing: the column does not sort. */
  readonly sort?: (row: Row) => SortValue
  /** Which way a first click sorts: biggest first suits rates and errors. */
  readonly firstDirection?: 'ascending' | 'descending'
  readonly cell: (row: Row) => string | Node
  readonly numeric?: boolean
  /** Long words (a state, a failure) may wrap rather than widen the table. */
  readonly wrap?: boolean
}

export interface TableOptions<Row> {
  readonly columns: ReadonlyArray<Column<Row>>
  /** The column sorted on until a person picks another, and which way. */
  readonly initialSort: number
  readonly initialDirection?: 'ascending' | 'descending'
  /** Words the filter matches against. */
  readonly text: (row: Row) => string
  /** Set as the row's data-state, for its colour. */
  readonly state?: (row: Row) => string
  /** What an empty table says. */
  readonly empty: string
}

function compare (a: SortValue, b: SortValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  return String(a).localeCompare(String(b), 'en', { numeric: true })
}

export class SortableTable<Row> {
  readonly #options: TableOptions<Row>
  readonly #body: HTMLTableSectionElement
  readonly #headers: HTMLTableCellElement[] = []
  #column: number
  #direction: 'ascending' | 'descending' = 'ascending'
  #rows: readonly Row[] = []
  #filter = ''

  constructor (table: HTMLTableElement, options: TableOptions<Row>) {
    this.#options = options
    this.#column = options.initialSort
    this.#direction = options.initialDirection ?? 'ascending'
    const head = table.createTHead()
    const tr = head.insertRow()
    options.columns.forEach((column, index) => {
      const th = document.createElement('th')
      th.scope = 'col'
      if (column.numeric === true) th.className = 'num'
      if (column.description !== undefined) th.title = column.description
      if (column.sort === undefined) {
        th.textContent = column.label
      } else {
        const button = document.createElement('button')
        button.type = 'button'
        button.className = 'sort'
        button.textContent = column.label
        button.addEventListener('click', () => { this.sortBy(index) })
        th.append(button)
      }
      tr.append(th)
      this.#headers.push(th)
    })
    this.#body = table.tBodies[0] ?? table.createTBody()
    this.#markSort()
  }

  /** Sorts on a column; the same column again turns the order round. */
  sortBy (index: number): void {
    const column = this.#options.columns[index]
    if (column?.sort === undefined) return
    if (index === this.#column) this.#direction = this.#direction === 'ascending' ? 'descending' : 'ascending'
    else {
      this.#column = index
      this.#direction = column.firstDirection ?? 'ascending'
    }
    this.#markSort()
    this.#render()
  }

  update (rows: readonly Row[], filter: string): void {
    this.#rows = rows
    this.#filter = filter.trim().toLowerCase()
    this.#render()
  }

  #markSort (): void {
    this.#headers.forEach((th, index) => {
      if (this.#options.columns[index]?.sort === undefined) return
      th.setAttribute('aria-sort', index === this.#column ? this.#direction : 'none')
    })
  }

  #render (): void {
    const { columns, text, state, empty } = this.#options
    const sort = columns[this.#column]?.sort
    const sign = this.#direction === 'ascending' ? 1 : -1
    const rows = this.#rows
      .filter((row) => this.#filter === '' || text(row).toLowerCase().includes(this.#filter))
      // Ties keep the order the gateway sent (the config's).
      .map((row, index) => ({ row, index }))
      .sort((a, b) => (sort === undefined ? 0 : sign * compare(sort(a.row), sort(b.row))) || a.index - b.index)
    const fragment = document.createDocumentFragment()
    for (const { row } of rows) {
      const tr = document.createElement('tr')
      if (state !== undefined) tr.dataset.state = state(row)
      for (const column of columns) {
        const td = document.createElement('td')
        if (column.numeric === true) td.className = 'num'
        else if (column.wrap === true) td.className = 'wrap'
        const content = column.cell(row)
        if (typeof content === 'string') td.textContent = content
        else td.append(content)
        tr.append(td)
      }
      fragment.append(tr)
    }
    if (rows.length === 0) {
      const tr = document.createElement('tr')
      const td = document.createElement('td')
      td.colSpan = columns.length
      td.className = 'empty'
      td.textContent = this.#rows.length === 0 ? empty : 'No rows match the filter.'
      tr.append(td)
      fragment.append(tr)
    }
    this.#body.replaceChildren(fragment)
  }
}
