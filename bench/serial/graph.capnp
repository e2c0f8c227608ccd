# graph.capnp - the benchmark graph (graph.h) in Cap'n Proto.  A struct
# pointer has one parent, so shared leaves and names are written once per
# parent: the message is the graph unfolded into a tree.
@0xe637f1bb0cbc2ab5;

struct Node {
  left @0 :Node;    # null: no child
  right @1 :Node;
  name @2 :Text;
  value @3 :UInt32;
}
