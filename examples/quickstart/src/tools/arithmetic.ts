/**
 * A small arithmetic evaluator (+ - * / and parentheses, decimals, unary minus).
 * No eval: the calculator must not run code the model writes.
 */
export function evaluate(expression: string): number {
  const tokens = expression.match(/\d+(?:\.\d+)?|[-+*/()]|\S/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = () => tokens[at++];

  const primary = (): number => {
    const token = take();
    if (token === "(") {
      const value = sum();
      if (take() !== ")") throw new Error("missing closing parenthesis");
      return value;
    }
    if (token === "-") return -primary();
    if (token === "+") return primary();
    if (token !== undefined && /^\d/.test(token)) return Number(token);
    throw new Error(
      token === undefined ? "the expression ends too early" : `unexpected "${token}"`,
    );
  };
  const product = (): number => {
    let value = primary();
    while (peek() === "*" || peek() === "/") {
      const op = take();
      const right = primary();
      if (op === "/" && right === 0) throw new Error("division by zero");
      value = op === "*" ? value * right : value / right;
    }
    return value;
  };
  const sum = (): number => {
    let value = product();
    while (peek() === "+" || peek() === "-")
      value = take() === "+" ? value + product() : value - product();
    return value;
  };

  const value = sum();
  if (at !== tokens.length) throw new Error(`unexpected "${peek()}"`);
  return Number(value.toPrecision(12));
}
