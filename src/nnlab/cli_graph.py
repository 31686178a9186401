"""The `nnlab lab` experiments of the graph family (nnlab.lab.graph), registered on the lab
parser by `add_experiments`; each command prints its figures and the paper's beside them."""


def add_experiments(experiments):
    """Add the graph experiments' subcommands to `experiments` (argparse subparsers)."""
    _add_planetoid_runs(experiments)
    _add_link_oversmoothing_gin(experiments)


# -- gcn-cora, gat-cora: the GCN and GAT papers' Planetoid tables (lab/planetoid_runs.py) --
def _add_planetoid_runs(experiments):
    from .cli import non_negative_int, positive_int
    for name, runs, helps in (
            ("gcn-cora", 100, "Kipf & Welling's 2-layer GCN (16 hidden, dropout 0.5, Adam "
             "0.01, <= 200 epochs, their early stop)"),
            ("gat-cora", 20, "Velickovic et al.'s GAT (8 heads x 8, dropout 0.6, Adam 0.005, "
             "<= 1000 epochs, patience 100)")):
        cmd = experiments.add_parser(
            name, help=f"test accuracy over seeded runs, beside the paper: {helps}",
            description=f"{helps} on Planetoid's public split, run r seeded with seed + r; "
            "prints the mean +- std test accuracy beside the paper's.")
        cmd.add_argument("--runs", type=positive_int, metavar="N", help=f"default {runs}")
        cmd.add_argument("--dataset", choices=("Cora", "CiteSeer"), help="default Cora")
        cmd.add_argument("--epochs", type=positive_int, metavar="N",
                         help=f"most epochs per run (default {200 if runs == 100 else 1000})")
        cmd.add_argument("--data", metavar="DIR", help="the folder of the raw Planetoid "
                         "files (default: ../shared/data/planetoid and the usual places)")
        cmd.add_argument("--seed", type=non_negative_int, metavar="S", help="default 0")
        cmd.add_argument("--out", metavar="DIR", help=f"write {name.split('-')[0]}_"
                         "{dataset}.png there")
        cmd.set_defaults(func=_cmd_planetoid_runs, planetoid_model=name.split("-")[0])


def _cmd_planetoid_runs(args):
    from .lab import gat_cora, gcn_cora
    given = {k: getattr(args, k) for k in ("runs", "dataset", "epochs", "seed", "out")
             if getattr(args, k) is not None}
    run = gcn_cora if args.planetoid_model == "gcn" else gat_cora
    result = run(root=args.data, on_run=_print_run, **given)
    paper = f"{result['paper_mean']:.1f}" + ("" if result["paper_std"] is None
                                             else f" +- {result['paper_std']:.1f}")
    epochs = result["epochs"]
    print(f"{result['model'].upper()} on {result['dataset']}, {result['runs']} runs from seed "
          f"{result['seed']}: stopped after {min(epochs)} to {max(epochs)} epochs "
          f"(median {sorted(epochs)[len(epochs) // 2]}), {result['seconds']:.0f} s")
    print(f"test accuracy: {result['mean']:.1f} +- {result['std']:.1f} ({result['runs']} "
          f"runs; paper {paper})")
    if result["plot"]:
        print(f"plot: {result['plot']}")
    return 0


def _print_run(r, accuracy, epochs):
    print(f"  run {r}: test accuracy {accuracy:.1f} after {epochs} epochs", flush=True)


# -- link-prediction, oversmoothing, gin-vs-gcn (lab/link_prediction.py, oversmoothing.py,
# gin_vs_gcn.py) --
def _add_link_oversmoothing_gin(experiments):
    from .cli import non_negative_int, positive_int
    data_help = ("the folder of the raw Planetoid files (default: ../shared/data/planetoid "
                 "and the usual places)")
    lp = experiments.add_parser(
        "link-prediction", help="GAE link prediction on Cora: test AUC and AP beside the "
        "paper's", description="Kipf & Welling's graph autoencoder (2-layer GCN encoder, "
        "32 hidden, 16 out; inner-product decoder) on a random 85/5/10 edge split of Cora; "
        "Adam 0.01, the epoch of the best validation AUC; test AUC and AP over runs.")
    lp.add_argument("--runs", type=positive_int, metavar="N", help="default 10")
    lp.add_argument("--dataset", choices=("Cora", "CiteSeer"), help="default Cora")
    lp.add_argument("--epochs", type=positive_int, metavar="N", help="default 200")
    lp.add_argument("--lr", type=float, metavar="LR", help="Adam's (default 0.01)")
    lp.add_argument("--data", metavar="DIR", help=data_help)
    lp.add_argument("--seed", type=non_negative_int, metavar="S", help="default 0")
    lp.add_argument("--out", metavar="DIR", help="write link_prediction.png there")
    lp.set_defaults(func=_cmd_link_prediction)
    ov = experiments.add_parser(
        "oversmoothing", help="test accuracy and Dirichlet energy of GCNs of depth 2 to 32, "
        "plain and residual", description="GCNs of each depth (hidden 64) on Cora, with and "
        "without residual connections, trained with the same budget: test accuracy, the "
        "normalised Dirichlet energy and mean pairwise cosine distance of the final node "
        "embeddings; and the energy of untrained embeddings layer by layer.")
    ov.add_argument("--depths", type=positive_int, nargs="+", metavar="D",
                    help="default: 2 4 8 16 32")
    ov.add_argument("--runs", type=positive_int, metavar="N", help="default 2")
    ov.add_argument("--dataset", choices=("Cora", "CiteSeer"), help="default Cora")
    ov.add_argument("--epochs", type=non_negative_int, metavar="N", help="default 50")
    ov.add_argument("--hidden", type=positive_int, metavar="H", help="default 64")
    ov.add_argument("--lr", type=float, metavar="LR", help="Adam's (default 0.01)")
    ov.add_argument("--data", metavar="DIR", help=data_help)
    ov.add_argument("--seed", type=non_negative_int, metavar="S", help="default 0")
    ov.add_argument("--out", metavar="DIR", help="write oversmoothing.png there")
    ov.set_defaults(func=_cmd_oversmoothing)
    gin = experiments.add_parser(
        "gin-vs-gcn", help="GIN (sum) against mean aggregation on WL-hard graphs",
        description="Graph classification of circulant graphs against the same with one "
        "edge moved (constant features): GIN with sum aggregation and readout separates "
        "them, SAGEConv's mean aggregation with a mean readout cannot; same budget.")
    gin.add_argument("--runs", type=positive_int, metavar="N", help="default 10")
    gin.add_argument("--num-graphs", type=positive_int, metavar="N", help="default 200")
    gin.add_argument("--epochs", type=non_negative_int, metavar="N", help="default 100")
    gin.add_argument("--hidden", type=positive_int, metavar="H", help="default 32")
    gin.add_argument("--layers", type=positive_int, metavar="L", help="default 3")
    gin.add_argument("--lr", type=float, metavar="LR", help="Adam's (default 0.01)")
    gin.add_argument("--seed", type=non_negative_int, metavar="S", help="default 0")
    gin.add_argument("--out", metavar="DIR", help="write gin_vs_gcn.png there")
    gin.set_defaults(func=_cmd_gin_vs_gcn)


def _given(args, names):
    return {k: getattr(args, k) for k in names if getattr(args, k) is not None}


def _cmd_link_prediction(args):
    import time

    from .lab import link_prediction
    given = _given(args, ("runs", "epochs", "lr", "seed", "out"))
    if args.dataset is not None:
        given["name"] = args.dataset
    start = time.perf_counter()
    result = link_prediction(root=args.data, **given)
    train, val, test = result["num_edges"]
    print(f"GAE on {result['name']}: {train} / {val} / {test} edges (train / val / test), "
          f"{result['runs']} runs of {result['epochs']} epochs from seed {result['seed']}, "
          f"{time.perf_counter() - start:.0f} s")
    for r, (auc, ap, epoch) in enumerate(zip(result["test_auc"], result["test_ap"],
                                             result["best_epoch"])):
        print(f"  run {r}: test AUC {auc:.2f}, AP {ap:.2f} (epoch {epoch})")
    (auc, auc_std), (ap, ap_std) = result["auc"], result["ap"]
    print(f"test AUC: {auc:.1f} +- {auc_std:.1f}, AP: {ap:.1f} +- {ap_std:.1f} "
          f"(paper GAE {result['paper']['auc']:.1f} / {result['paper']['ap']:.1f})")
    if result["plot"]:
        print(f"plot: {result['plot']}")
    return 0


def _cmd_oversmoothing(args):
    import time

    from .lab import oversmoothing
    given = _given(args, ("depths", "runs", "epochs", "hidden", "lr", "seed", "out"))
    if args.dataset is not None:
        given["name"] = args.dataset
    start = time.perf_counter()
    result = oversmoothing(root=args.data, **given)
    print(f"GCNs on {result['name']}, hidden {result['hidden']}, {result['epochs']} epochs, "
          f"{result['runs']} runs from seed {result['seed']}, "
          f"{time.perf_counter() - start:.0f} s")
    print(f"{'depth':>5}  {'kind':<8}  {'test accuracy':>14}  {'energy':>8}  "
          f"{'cos distance':>12}  {'untrained energy':>16}")
    for i, depth in enumerate(result["depths"]):
        for kind in ("plain", "residual"):
            acc, std = result["accuracy"][kind][i]
            print(f"{depth:>5}  {kind:<8}  {acc:>7.1f} +- {std:<4.1f}  "
                  f"{result['energy'][kind][i][0]:>8.4f}  {result['distance'][kind][i][0]:>12.4f}"
                  f"  {result['untrained'][kind][depth - 1]:>16.4g}")
    propagation = result["untrained"]["propagation"]
    print("energy of P^k X (no weights): " + ", ".join(
        f"k={k} {propagation[k]:.4g}" for k in [0] + result["depths"]))
    for kind in ("plain", "residual"):
        print(f"test accuracy ({kind}): " + ", ".join(
            f"depth {d} {m:.1f} +- {s:.1f}"
            for d, (m, s) in zip(result["depths"], result["accuracy"][kind])))
    if result["plot"]:
        print(f"plot: {result['plot']}")
    return 0


def _cmd_gin_vs_gcn(args):
    import time

    from .lab import gin_vs_gcn
    start = time.perf_counter()
    result = gin_vs_gcn(**_given(args, ("runs", "num_graphs", "epochs", "hidden", "layers",
                                        "lr", "seed", "out")))
    print(f"WL-hard graphs: {result['num_train']} training / {result['num_test']} test graphs, "
          f"{result['layers']} layers of {result['hidden']}, {result['epochs']} epochs, "
          f"{result['runs']} runs from seed {result['seed']}, "
          f"{time.perf_counter() - start:.0f} s")
    for kind, label in (("gin", "GIN (sum, sum readout)"),
                        ("mean", "mean aggregation (SAGEConv, mean readout)")):
        (train, train_std), (test, test_std) = result["train"][kind], result["test"][kind]
        print(f"  {label:<42} train {train:.1f} +- {train_std:.1f}, test {test:.1f} +- "
              f"{test_std:.1f}; readouts' spread {max(result['spread'][kind]):.2g}")
    (gin, gin_std), (mean, mean_std) = result["test"]["gin"], result["test"]["mean"]
    print(f"test accuracy: GIN {gin:.1f} +- {gin_std:.1f}, mean aggregation {mean:.1f} +- "
          f"{mean_std:.1f}")
    if result["plot"]:
        print(f"plot: {result['plot']}")
    return 0
