"""The Learn tab's longer English texts (the source of their translations in :mod:`metademo.ui.locales`).

``LEARN_TEMPLATE`` is filled with the registry's algorithms in each language by :mod:`metademo.ui.i18n`.
"""

LEARN_TEMPLATE = """\
## What is meta-learning?
A normal classifier learns *one* task from thousands of labelled examples. A **meta-learner** is
trained on thousands of *small tasks* (here: tell apart 5 or 20 handwritten characters from 1 or 5
examples of each) so that it becomes good at **learning a new small task quickly**.

### Support set and query set
Every task has a **support set**, the few labelled examples the model may learn from (in the app:
the examples in each class), and a **query set**, new examples of the same classes that it must then
classify (in the app: the queries). During meta-training the answers to the queries are known and
tell the meta-learner how well its learning worked.

### Inner loop and outer loop
* The **inner loop** adapts the model to one task: a few gradient steps on the support set (the
  *inner steps*, with the *inner learning rate*). This is what you watch when you press **Adapt**.
* The **outer loop** improves the starting point itself, across many tasks, so that the inner loop
  works well. It ran once, before this demo (the pretrained models); you can run it yourself in the
  classifier tab's outer-loop section (a small classifier, for a minute) or on the sine-wave tab.

### The algorithms, in three families
{algorithms}

### Where the inner loop starts
The gradient-based methods need a classifier *head* (one row of weights per class) on top of the
network, and the classes of a new task are new, so the head cannot be meta-learned like the rest.
{zero_head} start every task from a head of **zeros** (Kao et al. 2022): before the first step
every class is equally likely (chance, and a support loss of exactly ln N), so everything they get
right, they learned in the inner steps you watch. {prototype_head} starts from the class averages of
the embeddings instead (Triantafillou et al. 2020): it is already right at step 0, and the steps
fine-tune. Comparing the two shows what a good starting head buys.

### Omniglot
Omniglot (Lake et al. 2015) has 1,623 handwritten characters from 50 alphabets, each drawn by 20
people. The models were meta-trained on the *background* alphabets only; the gallery and the
comparison use the 20 *evaluation* alphabets, which they have never seen.
"""

STABLE_LOOPS = """\
### Inner loops that keep learning
Give a gradient-based learner more inner steps than it was meta-trained for and it can get *worse*:
its starting point was tuned so that exactly its few default steps land well, and further steps of the
same size overshoot. Earlier models here did (Meta-SGD fell from 93% to 70% on 10-way tasks by step 10);
the ones shipped now were meta-trained not to: move the *Inner steps* slider in **Compare algorithms** and
each holds or gains past its default. Published work keeps an inner loop stable in a few ways (Antoniou et
al. 2019, "How to train your MAML"):
* a **multi-step loss**: the outer loop scores the model after *every* inner step, not only the last, so
  every step must help;
* meta-training over a **range of step counts**, and of class counts, so that one model serves any
  number of steps and classes;
* a **smaller inner learning rate**, or one learned for each layer and step: MAML and Meta-SGD here learned a
  first step for the class head two and a half to three and a half times the base size (from a head of zeros
  it only sets how sure the model is) and smaller ones after it (down to a quarter or a third), where one size
  for every step overshot;
* a **step for the class head that does not grow with the number of classes**: the head's step scaled
  up with the classes suits the widths seen in meta-training but overshoots on wider tasks;
* **first-order** meta-gradients early in meta-training and exact ones later, and an outer learning
  rate that shrinks as training ends.

In the **2-D navigation** tab, MAML and first-order MAML were meta-trained with the multi-step loss over
1 to 3 steps at a small inner step size: one step halves the distance to the goal and the next steps keep
it there (trained for one step at a ten times larger step size, MAML's second step overshot).
"""
