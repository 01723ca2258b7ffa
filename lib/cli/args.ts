// Parsers of the commands' numeric options: a bad value is refused before anything runs, naming
// the option.

export const intList = (name: string) => (value: string): number[] => {
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`${name} must be a comma-separated list of positive integers, got ${value}`);
  return list;
};

export const intInRange = (name: string, min: number, max = Infinity) => (value: string): number => {
  const x = Number(value);
  if (!Number.isInteger(x) || x < min || x > max) {
    throw new Error(`${name} must be an integer ${max === Infinity ? `>= ${min}` : `from ${min} to ${max}`}, got ${value}`);
  }
  return x;
};
