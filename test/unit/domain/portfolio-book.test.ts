import { describe, it, expect } from 'vitest';
import type { Fill } from '../../../src/domain/fill.js';
import { FILL_ID_MEMORY, PortfolioBook } from '../../../src/domain/portfolio-book.js';

const TOK = 256265;

function fill(strategy_id: string, fill_id: string, side: 'BUY' | 'SELL', quantity: number, price: number): Fill {
  return { fill_id, strategy_id, instrument_token: TOK, side, quantity, price, timestamp: 1 };
}

describe('PortfolioBook', () => {
  it('gives an empty portfolio with the initial cash for an unknown strategy', () => {
    const book = new PortfolioBook(10_000);
    const v = book.get('nobody');
    expect(v.cash).toBe(10_000);
    expect(v.fillCount).toBe(0);
    expect(v.positions.size).toBe(0);
    expect(book.get('nobody')).toBe(v);
  });

  it('defaults the initial cash to 0', () => {
    expect(new PortfolioBook().get('x').cash).toBe(0);
  });

  it('applies a fill and returns the new view, which get() then returns', () => {
    const book = new PortfolioBook(1000);
    const v = book.apply(fill('s1', 'f1', 'BUY', 2, 100));
    expect(v).toBeDefined();
    // 1000 − 2·100 = 800
    expect(v!.cash).toBe(800);
    expect(v!.positions.get(TOK)).toEqual({ instrumentToken: TOK, quantity: 2, avgPrice: 100, realizedPnl: 0 });
    expect(book.get('s1')).toBe(v);
  });

  it('ignores a duplicate fill id (returns undefined, view unchanged)', () => {
    const book = new PortfolioBook(0);
    book.apply(fill('s1', 'f1', 'BUY', 2, 100));
    const before = book.get('s1');
    expect(book.apply(fill('s1', 'f1', 'BUY', 2, 100))).toBeUndefined();
    // even with different content, the same id is the same fill
    expect(book.apply(fill('s1', 'f1', 'SELL', 5, 999))).toBeUndefined();
    expect(book.get('s1')).toBe(before);
    expect(book.get('s1').fillCount).toBe(1);
    expect(book.get('s1').cash).toBe(-200);
  });

  it('accumulates distinct fills', () => {
    const book = new PortfolioBook(0);
    book.apply(fill('s1', 'f1', 'BUY', 10, 100));
    book.apply(fill('s1', 'f2', 'BUY', 10, 110));
    const v = book.apply(fill('s1', 'f3', 'SELL', 15, 120))!;
    // avg (1000 + 1100)/20 = 105; realised 15·(120 − 105) = 225; cash −2100 + 1800 = −300
    expect(v.positions.get(TOK)).toEqual({ instrumentToken: TOK, quantity: 5, avgPrice: 105, realizedPnl: 225 });
    expect(v.cash).toBe(-300);
    expect(v.fillCount).toBe(3);
  });

  it('keeps strategies independent, including their fill ids', () => {
    const book = new PortfolioBook(500);
    expect(book.apply(fill('s1', 'f1', 'BUY', 1, 100))).toBeDefined();
    // the same fill id under another strategy is a different fill
    expect(book.apply(fill('s2', 'f1', 'SELL', 3, 50))).toBeDefined();
    // s1: 500 − 100 = 400, long 1; s2: 500 + 150 = 650, short 3
    expect(book.get('s1').cash).toBe(400);
    expect(book.get('s1').positions.get(TOK)!.quantity).toBe(1);
    expect(book.get('s2').cash).toBe(650);
    expect(book.get('s2').positions.get(TOK)!.quantity).toBe(-3);
    expect(book.get('s3').cash).toBe(500);
  });

  it(`forgets the oldest fill id after ${FILL_ID_MEMORY} newer ones`, () => {
    const book = new PortfolioBook(0);
    for (let i = 0; i <= FILL_ID_MEMORY; i++) book.apply(fill('s1', `f${i}`, 'BUY', 1, 1));
    // FILL_ID_MEMORY + 1 distinct fills applied; the memory holds the newest FILL_ID_MEMORY of them
    expect(book.get('s1').fillCount).toBe(FILL_ID_MEMORY + 1);
    // the newest is still remembered …
    expect(book.apply(fill('s1', `f${FILL_ID_MEMORY}`, 'BUY', 1, 1))).toBeUndefined();
    // … and so is the second oldest
    expect(book.apply(fill('s1', 'f1', 'BUY', 1, 1))).toBeUndefined();
    // the oldest, f0, has been forgotten and would be applied again
    expect(book.apply(fill('s1', 'f0', 'BUY', 1, 1))).toBeDefined();
  });
});
