#!/usr/bin/python3
"""make-cli-corpus.py - writes the seed corpus of fuzz_cli.c into
tests/fuzz/corpus/cli (first byte: 0 CSV, 1 argv, 2 specs; see fuzz_cli.c).
Run from anywhere; the files are committed, so this only documents them."""
import os

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "corpus", "cli")
os.makedirs(out, exist_ok=True)

csv = {
    "csv_plain": "1,2,3\n4,5,6\n",
    "csv_header": "a,b\n1.5,-2e-3\n3,4\n",
    "csv_blanks": "# comment\n\n1 2 3\n  4\t5 6  \n",
    "csv_crlf": "1,2\r\n3,4\r\n",
    "csv_ragged": "1,2\n3\n",
    "csv_nan": "1,nan\n",
    "csv_inf": "inf,1\n",
    "csv_hex": "0x1p-3,1e308\n-0,5e-324\n",
    "csv_empty_fields": ",,\n1,,2\n",
    "csv_only_header": "x,y\n",
    "csv_long": ",".join(str(i * 0.5) for i in range(300)) + "\n",
    "csv_nul": "1,2\x003\n",
    "csv_big": "1e309,2\n",
    "csv_spaces_commas": " 1 , 2 \n 3 ,4\n",
}
argv = {
    "argv_basic": ["-x", "X.npy", "-y", "Y.csv", "-p", "t.npz", "--act", "relu,tanh", "--loss", "huber:0.5"],
    "argv_constraint": ["--constraint", "1,2,inf", "--threads", "2", "-q", "pos1"],
    "argv_cluster": ["-qx", "a", "-ty", "3"],
    "argv_help": ["--help"],
    "argv_unknown": ["--bogus", "-Z"],
    "argv_missing": ["--loss"],
    "argv_points": ["--points", "17", "--lambda", "1e-3", "--mode", "joint", "--csv", "o.csv", "--svg=p.svg"],
    "argv_bad_numbers": ["--points", "-1", "--threads", "99999999999999999999"],
    "argv_dashdash": ["--", "-x", "a", "b", "c"],
    "argv_abbrev": ["--con", "none", "--lo", "squared", "--ac", "poly:1:3"],
}
specs = {
    "spec_all": ["leaky:0.1,poly:0.5:2,sigmoid", "logistic-paper", "0.5,0.5,0.5", "shared"],
    "spec_bad": ["poly:x", "huber:", "1,2", "sideways"],
    "spec_none": ["identity", "softmax-ce", "none", ""],
    "spec_overlong": ["relu," * 40, "cross-entropy:1", "1,2,3,4", "row"],
    "spec_nan": ["leaky:nan", "huber:-1", "nan,1,1", "joint"],
}

def put(name, kind, payload):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([kind]) + payload)

for k, v in csv.items():
    put(k, 0, v.encode())
for k, v in argv.items():
    put(k, 1, b"\0".join(s.encode() for s in v))
for k, v in specs.items():
    put(k, 2, b"\0".join(s.encode() for s in v))
