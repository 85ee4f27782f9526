"""The page in Spanish (see :mod:`metademo.ui.i18n`): the keys and ``{placeholders}`` of the English tables."""

STRINGS = {
    # --- static texts ---------------------------------------------------------------------------------
    "header": """\
# metademo: aprender a aprender, en directo
El metaaprendizaje entrena un modelo con *muchas tareas pequeñas* para que pueda aprender una tarea **nueva** a
partir de un puñado de ejemplos. Aquí {count} metaaprendices, preentrenados con los alfabetos de Omniglot, se
encuentran con caracteres que nunca han visto. Dales unos pocos ejemplos de cada clase y míralos adaptarse.
""",
    "classifier_intro": """\
**Cómo se usa:** 1) da a cada clase unos pocos ejemplos: *sube* imágenes, dibuja en el lienzo y pulsa
**Dibujo**, muestra un dibujo a la webcam y pulsa **Foto**, o pulsa **Galería** para obtener dibujos de
un carácter que los modelos nunca vieron; 2) pulsa **Adaptar** y mira cómo el modelo aprende de ellos (el
*conjunto de soporte*), paso a paso; 3) añade *consultas*, o simplemente dibuja, y lee lo seguro que está el modelo.
""",
    "sketch_help": ("Dibuja un carácter con el ratón, un dedo o un lápiz y pulsa **Dibujo** en una clase (o en "
                    "*Consultas*): se añade y el lienzo se borra solo para el siguiente."),
    "webcam_help": ("Pulsa la imagen de la cámara y permite que el navegador la use. Muestra un carácter dibujado con "
                    "un rotulador oscuro en papel blanco, ocupando el centro de la imagen, y pulsa **Foto** en una "
                    "clase."),
    "live_help": ("Después de **Adaptar**, las barras muestran lo que el modelo adaptado opina del dibujo del "
                  "lienzo, y cambian mientras dibujas: una barra por clase."),
    "capture_help": ("Cada tarjeta de clase: **Subir** (varios archivos a la vez), **Dibujo** (del lienzo), **Foto** "
                     "(de la webcam), **Galería** (K dibujos de un carácter nuevo). Haz clic en un ejemplo para "
                     "seleccionarlo y usar *Quitar seleccionado*; *Vaciar* vacía la tarjeta."),
    "query_help": ("Las consultas se clasifican en cuanto se añaden. *Galería* añade un dibujo nuevo de cada carácter "
                   "de galería de tus clases, así que se conoce la respuesta correcta (verde = acierto, rojo = "
                   "error)."),
    "task_help": ("**Descargar tarea** guarda los nombres de las clases y sus imágenes (y las consultas) en un único "
                  "archivo zip; **Abrir tarea** vuelve a cargar ese archivo, por ejemplo una tarea que preparó un "
                  "profesor."),
    "outer_loop_help": ("Los modelos preentrenados aprendieron *a aprender* en un bucle externo sobre miles de tareas "
                        "pequeñas. Aquí puedes ver uno: un modelo pequeño parte de pesos aleatorios y se metaentrena "
                        "con tareas tomadas de los alfabetos de entrenamiento de Omniglot; cada pocas iteraciones se "
                        "evalúa con tareas de caracteres con los que nunca entrena. Una ejecución a la vez para toda "
                        "la aplicación. Por qué la primera opción ya acierta alrededor del 65 % (el azar es el 20 %) "
                        "antes de su primera iteración: incluso unos pesos de convolución aleatorios llevan dos "
                        "dibujos del mismo carácter a puntos cercanos, y responde con la media de clase más cercana, "
                        "así que supera al azar sin entrenar; después, el bucle externo separa mucho más esos puntos. "
                        "La otra opción empieza cada tarea con una cabeza de ceros, es decir, al nivel del azar."),
    "export_help": ("**Descargar clasificador** guarda el modelo adaptado (safetensors). En Python: "
                    "`metademo.load_fitted(path).predict_proba(images)` da las mismas probabilidades."),
    "compare_intro": """\
Un *episodio* (N caracteres no vistos, K ejemplos de cada uno y 5 dibujos más de cada uno como consultas
con respuesta conocida) pasa por todos los algoritmos. El gráfico muestra la proporción de consultas que
cada uno acierta tras cada paso interno (la línea discontinua es el azar, 1 de N); un algoritmo sin bucle
interno es un único punto en el paso 0.
""",
    "sine_intro": """\
La imagen clásica del artículo de MAML (Finn et al. 2017). Cada *tarea* es una onda sinusoidal
`y = amplitude * sin(x - phase)`. A partir de K puntos de una onda nueva, **MAML** (metaentrenado con muchas
ondas) y una **referencia** (una red entrenada con todas las ondas a la vez) dan pasos de gradiente. El punto
de partida de MAML se eligió para que unos pocos pasos alcancen la onda nueva; el de la referencia, no.
""",
    "sine_train_help": """\
Metaentrena un MAML nuevo con ondas sinusoidales aleatorias, aquí mismo (bastante menos de un minuto con dos
núcleos de CPU). La curva es la *metapérdida*: el error en puntos reservados de ondas nuevas **después** de los
pasos internos. Cuando termine, elige *el MAML que acabas de entrenar* arriba y vuelve a adaptar.
""",
    "learn": """\
## ¿Qué es el metaaprendizaje?
Un clasificador normal aprende *una* tarea a partir de miles de ejemplos etiquetados. Un **metaaprendiz** se
entrena con miles de *tareas pequeñas* (aquí: distinguir 5 o 20 caracteres manuscritos a partir de 1 o 5
ejemplos de cada uno) para que se vuelva bueno **aprendiendo rápido una tarea pequeña nueva**.

### Conjunto de soporte y conjunto de consulta
Cada tarea tiene un **conjunto de soporte**, los pocos ejemplos etiquetados de los que el modelo puede aprender
(en la aplicación: los ejemplos de cada clase), y un **conjunto de consulta**, ejemplos nuevos de las mismas
clases que después debe clasificar (en la aplicación: las consultas). Durante el metaentrenamiento se conocen
las respuestas de las consultas, que le dicen al metaaprendiz lo bien que ha funcionado su aprendizaje.

### Bucle interno y bucle externo
* El **bucle interno** adapta el modelo a una tarea: unos pocos pasos de gradiente sobre el conjunto de soporte
  (los *pasos internos*, con la *tasa de aprendizaje interna*). Es lo que ves al pulsar **Adaptar**.
* El **bucle externo** mejora el propio punto de partida, a lo largo de muchas tareas, para que el bucle interno
  funcione bien. Se ejecutó una vez, antes de esta demo (los modelos preentrenados); puedes ejecutarlo tú mismo
  en la sección de bucle externo de la pestaña del clasificador (un clasificador pequeño, durante un minuto) o en
  la pestaña de la onda sinusoidal.

### Los algoritmos, en tres familias
{algorithms}

### Dónde empieza el bucle interno
Los métodos basados en gradiente necesitan una *cabeza* de clasificación (una fila de pesos por clase) sobre la
red, y las clases de una tarea nueva son nuevas, así que la cabeza no puede metaaprenderse como el resto.
{zero_head} empiezan cada tarea con una cabeza de **ceros** (Kao et al. 2022): antes del primer paso todas las
clases son igual de probables (el azar, y una pérdida de soporte de exactamente ln N), así que todo lo que
aciertan lo aprendieron en los pasos internos que ves. {prototype_head} parte en cambio de las medias por clase
de los embeddings (Triantafillou et al. 2020): ya acierta en el paso 0, y los pasos afinan. Comparar ambos
muestra lo que aporta una buena cabeza inicial.

### Omniglot
Omniglot (Lake et al. 2015) tiene 1.623 caracteres manuscritos de 50 alfabetos, cada uno dibujado por 20
personas. Los modelos se metaentrenaron solo con los alfabetos de *fondo* (background); la galería y la
comparación usan los 20 alfabetos de *evaluación*, que nunca han visto.
""",
    "stable_loops": """\
### Bucles internos que siguen aprendiendo
Da a un aprendiz basado en gradientes más pasos internos de los que usó en su metaentrenamiento y puede
*empeorar*: su punto de partida se ajustó para que justo sus pocos pasos por defecto acierten, y los pasos
siguientes, del mismo tamaño, se pasan de largo. Modelos anteriores lo hacían aquí (Meta-SGD caía del 93 %
al 70 % en tareas de 10 clases en el paso 10); los que se distribuyen ahora se metaentrenaron para no hacerlo:
mueve el control *Pasos internos* en **Comparar algoritmos** y cada uno se mantiene o mejora más allá de sus
pasos por defecto. Los trabajos publicados mantienen estable el bucle interno de varias maneras (Antoniou et
al. 2019, "How to train your MAML"):
* una **pérdida de varios pasos**: el bucle externo puntúa el modelo después de *cada* paso interno, no solo
  del último, así que cada paso debe ayudar;
* metaentrenar con un **rango de números de pasos**, y de clases, para que un solo modelo sirva para cualquier
  número de pasos y de clases;
* una **tasa de aprendizaje interna más pequeña**, o una aprendida para cada capa y cada paso: MAML y Meta-SGD
  aprendieron aquí un primer paso de la cabeza de clases de dos veces y media a tres veces y media el tamaño
  base (desde una cabeza de ceros solo fija la seguridad del modelo) y pasos siguientes más pequeños (hasta un
  cuarto o un tercio), donde un solo tamaño se pasaba de largo;
* un **paso para la cabeza de clases que no crece con el número de clases**: un paso de la cabeza que
  aumenta con las clases sirve para los anchos vistos en el metaentrenamiento pero se pasa de largo en tareas
  más anchas;
* metagradientes de **primer orden** al principio del metaentrenamiento y exactos después, y una tasa de
  aprendizaje externa que se reduce al final del entrenamiento.

En la pestaña **Navegación 2-D**, MAML y MAML de primer orden se metaentrenaron con la pérdida de varios pasos,
de 1 a 3 pasos, con un paso interno pequeño: un paso reduce a la mitad la distancia a la meta y los siguientes
la mantienen (entrenado para un solo paso, diez veces más grande, el segundo paso de MAML se pasaba de largo).
""",
    "three_pictures": (
        "### Tres imágenes del metaaprendizaje, lado a lado\n\n"
        "| | Clasificación con pocos ejemplos | Regresión de ondas sinusoidales | Navegación 2-D (refuerzo) |\n"
        "|---|---|---|---|\n"
        "| **Una tarea** | distinguir N clases nuevas de caracteres | ajustar una onda sinusoidal (su amplitud y "
        "fase) | llegar a una meta oculta en el plano |\n"
        "| **Conjunto de soporte** | K dibujos etiquetados de cada clase | K puntos (x, y) de la onda | episodios "
        "que muestrea la propia política, con sus recompensas |\n"
        "| **Bucle interno** | pasos de gradiente sobre la entropía cruzada del soporte | pasos de gradiente sobre "
        "el error cuadrático del soporte | pasos de gradiente de política sobre el retorno de los episodios "
        "muestreados |\n"
        "| **Se evalúa con** | la exactitud en los dibujos de consulta | el error sobre toda la onda | el retorno "
        "de episodios nuevos tras adaptarse |\n"
        "| **Bucle externo** | que el modelo adaptado clasifique bien las consultas, en muchas tareas | que un "
        "paso ajuste cualquier onda | que unos pocos pasos lleguen a cualquier meta (su metagradiente también "
        "pasa por cómo se muestrearon los episodios) |\n"),
    "accuracy_missing": """\
### Exactitud medida
Aún sin medir: la tabla de referencia (`docs/accuracy.md`) aparecerá aquí cuando se hayan evaluado los modelos
incluidos.
""",
    "api_help": """\
### Úsalo desde un programa
Las acciones principales de esta página son también puntos de acceso de la API (consulta *Use via API* al pie
de la página). El principal, `/classify`, adapta un modelo a imágenes etiquetadas y clasifica consultas en una
sola llamada:

```python
from gradio_client import Client, handle_file

client = Client("http://127.0.0.1:7860/")
result = client.predict(
    "maml",                                            # algoritmo
    [handle_file("a1.png"), handle_file("b1.png")],    # imágenes de soporte
    ["alpha", "beta"],                                 # una etiqueta por imagen de soporte
    [handle_file("query.png")],                        # imágenes que clasificar
    None,                                              # pasos internos (None: los del modelo)
    None,                                              # tasa de aprendizaje interna (None: la del modelo)
    api_name="/classify",
)
result["classes"], result["probabilities"], result["predictions"], result["history"]
```
También puedes probarlo en el formulario de abajo.
""",
    "gallery_omniglot": ("Galería: **alfabetos de evaluación de Omniglot** (659 caracteres que los modelos nunca "
                         "vieron durante el metaentrenamiento)."),
    "gallery_synthetic": "Galería: **glifos sintéticos** (caracteres inventados dibujados por un programa).",
    "gallery_loading": "Omniglot se está cargando; la galería cambiará cuando esté listo.",
    "gallery_downloading": "Omniglot no está en esta máquina; se está descargando el conjunto de evaluación.",
    "gallery_unavailable": "Omniglot no está disponible en esta máquina.",
    "navigation_intro": """\
Un punto parte del centro y elige una velocidad en cada uno de 100 pasos; su recompensa es menos su distancia a
una **meta oculta**. La tarea es la meta. **Haz clic en cualquier lugar del cuadrado** para esconder una (o
elige una al azar): la política muestrea 20 episodios, da un paso de gradiente de política sobre sus
recompensas, muestrea 20 más, y así sucesivamente. Los caminos grises son antes de adaptarse; luego azul, verde y
naranja tras los pasos 1, 2 y 3. MAML se metaentrenó para que estos pocos pasos se dirijan a la meta; la
referencia, entrenada con todas las metas a la vez, aprendió un comportamiento promedio. El cuadrado discontinuo
es donde el metaentrenamiento sorteó sus metas.
""",
    "episode_hint": "Pulsa *Nuevo episodio* para sortear uno (o *Ejecutar*, que sortea uno si hace falta).",
    "nav_hint": "Haz clic en el cuadrado para esconder una meta.",
    "tab_classifier": "Clasificador con pocos ejemplos",
    "tab_compare": "Comparar algoritmos",
    "tab_sine": "Regresión de ondas sinusoidales (aula)",
    "tab_navigation": "Navegación 2-D (refuerzo)",
    "tab_learn": "Aprende",
    "heading_capture": "### 1. Dibuja o muestra un carácter",
    "heading_classes": "### 2. Tus clases",
    "heading_adapt": "### 3. Adaptar: el bucle interno",
    "heading_queries": "### 4. Consultas: ¿qué cree el modelo adaptado que son?",
    "heading_save": "### 5. Guardar y compartir",
    "heading_outer": "### 6. Observa el bucle externo: metaentrena un modelo tú mismo",
    "heading_sine_train": "### Metaentrena MAML tú mismo",
    "heading_nav_train": "### Metaentrena MAML tú mismo (unos dos minutos con dos núcleos de CPU para 100 iteraciones)",
    "label_pad": "Lienzo de dibujo",
    "label_webcam": "Webcam",
    "label_live": "Vista previa en directo del lienzo",
    "label_pad_preview": "Vista previa del lienzo",
    "label_num_classes": "Número de clases",
    "label_k_gallery": "Dibujos por elección de galería (K)",
    "label_class_name": "Clase {n}: nombre",
    "label_class_examples": "Clase {n}: ejemplos",
    "label_upload": "Subir",
    "label_drawing": "Dibujo",
    "label_photo": "Foto",
    "label_gallery": "Galería",
    "label_remove": "Quitar seleccionado",
    "label_clear": "Vaciar",
    "label_algorithm": "Algoritmo",
    "label_steps": "Pasos internos",
    "label_lr": "Tasa de aprendizaje interna",
    "label_adapt": "Adaptar",
    "label_adapt_plot": "Adaptación",
    "label_step": "Paso mostrado abajo",
    "label_queries": "Consultas (haz clic en una para seleccionarla)",
    "label_classify": "Clasificar",
    "label_pred_plot": "Predicciones en el paso elegido",
    "label_pred_table": "Predicciones (tabla)",
    "label_embed_plot": "Mapa de embeddings en el paso elegido",
    "label_download_task": "Descargar tarea",
    "label_open_task": "Abrir tarea",
    "label_download_classifier": "Descargar clasificador",
    "label_save_again": "Guardar de nuevo el último archivo",
    "label_live_algorithm": "Algoritmo que metaentrenar",
    "label_live_seconds": "Tiempo de entrenamiento (segundos)",
    "label_outer_plot": "Bucle externo",
    "label_meta_train": "Metaentrenar",
    "label_n_way": "N clases (N-way)",
    "label_k_shot": "K ejemplos (K-shot)",
    "label_queries_per_class": "Consultas por clase",
    "label_inner_steps": "Pasos internos",
    "label_new_episode": "Nuevo episodio",
    "label_run_compare": "Ejecutar todos los algoritmos con este episodio",
    "label_support_set": "Conjunto de soporte (los ejemplos etiquetados, una columna por clase)",
    "label_comparison": "Comparación",
    "label_results": "Resultados (exactitud en las consultas)",
    "label_amplitude": "Amplitud",
    "label_phase": "Fase",
    "label_k_points": "K puntos",
    "label_sine_steps": "Pasos",
    "label_learning_rate": "Tasa de aprendizaje",
    "label_points_seed": "Semilla de los puntos",
    "label_maml_model": "Modelo MAML",
    "label_new_points": "Puntos nuevos",
    "label_sine_plot": "Onda sinusoidal",
    "label_iterations": "Iteraciones de metaentrenamiento",
    "label_training_seed": "Semilla del entrenamiento",
    "label_train_maml": "Metaentrenar MAML",
    "label_meta_training_plot": "Metaentrenamiento",
    "label_policy": "Política",
    "label_episodes_seed": "Semilla de los episodios",
    "label_random_goal": "Meta al azar",
    "label_nav_field": "MAML: haz clic para fijar la meta",
    "label_nav_baseline": "referencia (preentrenada con todas las metas)",
    "label_nav_returns": "Retorno por paso",
    "label_try_classify": "Prueba /classify aquí",
    "info_num_classes": "Cuántas clases (caracteres) debe distinguir el modelo.",
    "info_k_gallery": "Cuántos dibujos pone en una clase el botón Galería.",
    "info_algorithm": "Qué metaaprendiz se adapta a tus clases.",
    "info_steps": "Pasos internos: pasos de gradiente sobre tus ejemplos. 0 = el punto de partida preentrenado.",
    "info_lr": "Tasa de aprendizaje interna: el tamaño de cada paso. Demasiado grande hace que el modelo diverja.",
    "info_live_algorithm": ("Las Prototypical Networks aprenden más rápido; first-order MAML necesita mucho más "
                            "tiempo para superar al azar."),
    "info_live_seconds": ("Cuánto dura el bucle externo (mientras tanto, los dos núcleos de procesador de la "
                          "aplicación están ocupados)."),
    "info_step_shown": ("Qué paso interno muestran abajo las predicciones y el mapa de embeddings (0 = antes de "
                        "adaptarse)."),
    "info_n_way": "N-way: cuántos caracteres hay en el episodio.",
    "info_k_shot": "K-shot: cuántos ejemplos etiquetados de cada carácter.",
    "info_queries": "Consultas por clase: dibujos sin etiqueta que clasificar (se conocen sus respuestas).",
    "info_compare_steps": ("Pasos internos de los algoritmos basados en gradiente (cada uno usa su propia tasa de "
                           "aprendizaje por defecto)."),
    "info_amplitude": "Altura de la onda.",
    "info_phase": "Desplazamiento de la onda hacia la derecha.",
    "info_k_points": "K: cuántos puntos de la onda nueva ven los modelos.",
    "info_sine_steps": "Pasos de gradiente que da cada modelo sobre los K puntos.",
    "info_sine_lr": "Tamaño de esos pasos de gradiente.",
    "info_iterations": ("Iteraciones de metaentrenamiento, cada una con un lote de 25 ondas nuevas (2000 tardan "
                        "aproximadamente medio minuto)."),
    # --- texts made while the page answers ---------------------------------------------------------------
    "learn_family": "**Los que {what}:**",
    "and": " y ",
    "note_pair": ("{summary} Los pasos y la tasa de aprendizaje no se aplican; el gráfico muestra la {label} de cada "
                  "consulta con cada clase, y el mapa de embeddings lo que hace su módulo de embedding."),
    "note_metric": ("{summary} Los pasos y la tasa de aprendizaje no se aplican; el mapa de embeddings muestra "
                    "lo que hace."),
    "note_steps": "{summary} Cada tarea empieza con {head}.",
    "checkpoint_defaults": " Valores por defecto del modelo guardado: {steps} pasos, tasa de aprendizaje {lr:g}.",
    "device": "Los modelos se ejecutan en **{type}**",
    "device_threads": " ({threads} hilos)",
    "device_bfloat16": ", pasos internos en bfloat16",
    "generic_error": "Algo salió mal en el servidor (ha quedado registrado). Inténtalo de nuevo.",
    "col_query": "consulta", "col_prediction": "predicción", "col_confidence": "confianza",
    "col_answer": "respuesta correcta", "col_correct": "¿acierto?",
    "right": "✓ acierto", "wrong": "✗ error", "tie": "un empate",
    "yours": "Tu modelo metaentrenado",
    "image": "imagen",
    "not_adapted": "Pulsa primero 'Adaptar': el modelo aún no ha aprendido tus clases.",
    "classes_range": "Usa de {low} a {high} clases; hay {count}.",
    "same_name": "Dos clases se llaman {name!r}: da a cada clase su propio nombre.",
    "no_examples": ("La clase {n} ({name!r}) aún no tiene ejemplos: sube algunos, añade un dibujo o una foto, o pulsa "
                    "'Galería'."),
    "too_many_examples": ("La clase {n} ({name!r}) tiene {count} ejemplos; se usan como mucho {limit} por clase. "
                          "Quita algunos."),
    "bad_example": "Clase {n} ({name!r}), ejemplo {k}: {reason}",
    "bad_query": "Consulta {n} ({name}): {reason}",
    "map_after_adapt": "El mapa de embeddings aparece después de Adaptar.",
    "before_adapting": "antes de adaptarse (paso 0)",
    "after_one_step": "tras 1 paso interno",
    "after_steps": "tras {n} pasos internos",
    "no_inner_steps": "sin pasos internos",
    "map_title": "Embeddings {when}<br><sup>PCA 2-D, mismos ejes en todos los pasos</sup>",
    "add_queries": "Añade consultas (subir, dibujo, foto o galería) para ver las predicciones.",
    "pair_title": "{title}: la {label} de cada consulta con cada clase (sin pasos internos)",
    "no_steps_scores": "{title} no tiene pasos internos. Añade consultas para ver su {label} con cada clase.",
    "no_steps_map": "{title} no tiene pasos internos: el mapa de abajo muestra lo que hace.",
    "adapting_title": "{title} adaptándose a tus {count} clases",
    "not_trained": "Aún no has metaentrenado ningún modelo: pulsa primero 'Metaentrenar' en la sección 6.",
    "diverged": ("La adaptación divergió en el paso {step}: la tasa de aprendizaje {lr:g} es demasiado grande. Las "
                 "predicciones usan el paso {used}, el último bueno. Prueba una tasa de aprendizaje más pequeña."),
    "exploded": ("La pérdida de soporte se disparó (hasta {peak:.3g}, desde {start:.3g}): la tasa de aprendizaje "
                 "{lr:g} es demasiado grande y los pasos se pasan de largo. Prueba una tasa de aprendizaje más "
                 "pequeña."),
    "adapting": "Adaptando",
    "step_status": "**{title}**: paso {step} de {steps} · pérdida de soporte {loss:.3f}",
    "adapted_status": ("**{title}** se adaptó a {classes} clases a partir de {examples} ejemplos: {steps} pasos con "
                       "tasa de aprendizaje {lr:g} en {ms:.0f} ms. Exactitud en el soporte {accuracy:.0f} %, pérdida "
                       "{loss:.3f}. Mueve el control *paso* para ver cada paso."),
    "fitted_status": ("**{title}**: {fitted_as} para {classes} clases a partir de {examples} ejemplos en {ms:.0f} ms "
                      "(sin pasos internos)."),
    "no_ink": ("No se ve tinta clara en la foto. Los modelos conocen caracteres manuscritos: muestra un carácter "
               "dibujado con un rotulador oscuro y grueso en papel blanco, ocupando el centro de la imagen, y vuelve "
               "a intentarlo."),
    "no_camera": ("La webcam no está encendida: pulsa la imagen de la cámara encima de las tarjetas de clase, permite "
                  "que el navegador use la cámara y vuelve a pulsar Foto."),
    "empty_pad": ("El lienzo está vacío: dibuja primero un carácter (si acabas de dibujar uno, puede que aún se esté "
                  "guardando: espera un segundo y vuelve a pulsar Dibujo)."),
    "kept_some": "Aquí caben como mucho {limit} imágenes; se conservaron {room} de las {count} nuevas.",
    "skipped": "Se omitió lo que no es una imagen utilizable: {files}",
    "full": "Aquí caben como mucho {limit} imágenes: quita una primero.",
    "select_first": "Haz clic primero en una imagen para seleccionarla y luego pulsa 'Quitar seleccionado'.",
    "gallery_first": ("Llena primero al menos una clase con 'Galería': las consultas de galería son dibujos nuevos de "
                      "esos caracteres, así que se conocen las respuestas correctas."),
    "task_needs_examples": "La clase {n} ({name!r}) aún no tiene ejemplos: una tarea necesita ejemplos de cada clase.",
    "choose_task": "Elige un archivo de tarea (.zip) guardado con 'Descargar tarea'.",
    "task_classes": ("Esta tarea tiene {count} clases; la página muestra de {low} a {high} (en Python, "
                     "metademo.load_task la abre con hasta {most})."),
    "opened_task": ("Se abrió una tarea con {count} clases ({names}), {examples} ejemplos y {queries} consultas. "
                    "Pulsa **Adaptar**."),
    "nothing_to_download": "Pulsa primero 'Adaptar': aún no hay ningún clasificador adaptado que descargar.",
    "train_first": ("⚠️ Aún no has metaentrenado ningún modelo: pulsa **Metaentrenar** en la sección 6 y luego "
                    "adapta con él aquí."),
    "your_model": "Tu modelo: {note}. ",
    "live_runs": "El metaentrenamiento en directo ejecuta {titles}.",
    "busy": ("Alguien está metaentrenando un modelo ahora mismo (uno a la vez, porque ocupa todo el procesador). "
             "Vuelve a intentarlo dentro de un minuto."),
    "loading_alphabets": "Cargando los alfabetos de entrenamiento",
    "meta_training_title": "Metaentrenando {title} desde un inicio aleatorio",
    "meta_training": "Metaentrenando",
    "iteration_status": ("Iteración {iteration} · {seconds:.0f} s de entrenamiento · exactitud de validación "
                         "**{accuracy:.0f} %** con caracteres no vistos · datos: {data}"),
    "done_status": ("Hecho: {iteration} iteraciones del bucle externo en {seconds:.0f} s; la exactitud de validación "
                    "pasó del {start:.0f} % (inicio aleatorio) al **{accuracy:.0f} %**. *{yours}* está ahora elegido "
                    "en la sección 3: pulsa **Adaptar** para usarlo con tus clases, junto a los preentrenados."),
    "inner_step": "paso interno",
    "loss_axis": "pérdida (entropía cruzada)",
    "loss_axis_log": "pérdida (entropía cruzada, escala logarítmica)",
    "accuracy_axis": "exactitud (%)",
    "chance": "azar ({percent:.0f} %)",
    "uniform_loss": "pérdida de una conjetura uniforme (ln {n})",
    "diverged_mark": "divergió",
    "support_loss": "pérdida de soporte",
    "support_accuracy": "exactitud en el soporte (%)",
    "query_accuracy": "exactitud en las consultas (%)",
    "queries_trace": "consultas",
    "axis_1": "eje principal 1",
    "axis_2": "eje principal 2",
    "tie_mark": " (empate)",
    "query_row": "Consulta {n}: <b>{shown}</b> ({percent:.0f} %)",
    "it_is": " (es {name})",
    "query": "consulta",
    "class": "clase",
    "validation_trace": "validación: tareas de 5 clases y 1 ejemplo con caracteres no vistos (%)",
    "training_trace": "tareas de entrenamiento (%)",
    "outer_axis": "iteración del bucle externo (un metalote de tareas cada una)",
    "outer_accuracy_axis": "exactitud en las consultas tras adaptarse (%)",
    "col_algorithm": "algoritmo", "col_inner_steps": "pasos internos", "col_before": "antes de adaptarse (paso 0)",
    "col_after_last": "tras el último paso", "col_after_default": "tras sus pasos por defecto",
    "col_time": "tiempo (ms)",
    "default_steps_cell": "{percent:.0f} % ({steps} pasos)",
    "too_many_drawings": ("K-shot + consultas por clase debe ser como mucho {most} (cada carácter tiene {most} "
                          "dibujos); hay {k} + {q}."),
    "support_caption": "clase {n}: {key}",
    "kind_synthetic": "glifos sintéticos", "kind_omniglot": "caracteres de evaluación de Omniglot",
    "episode_info": ("**Episodio de {n} clases y {k} ejemplos (N-way, K-shot)** con {kind} (los modelos nunca los "
                     "vieron), {q} consultas por clase: {characters}"),
    "adapting_algorithm": "Adaptando {title}",
    "skipped_algorithm": "{title} omitido: {reason}",
    "nothing_to_compare": "No se pudo cargar ningún modelo preentrenado, así que no hay nada que comparar.",
    "sine_pretrained": "MAML (preentrenado)",
    "choice_pretrained": "MAML preentrenado", "choice_trained": "el MAML que entrenaste",
    "sine_yours": "tu MAML ({iterations} iteraciones)",
    "sine_baseline": "referencia (preentrenada con todas las ondas)",
    "no_trained_maml": "Aún no has metaentrenado un MAML (pulsa 'Metaentrenar MAML'); se muestra el preentrenado.",
    "sine_status": "Paso {step} de {steps}. Error sobre toda la onda (MSE): {errors}",
    "diverged_word": "divergió",
    "sine_diverged": "Un modelo divergió: la tasa de aprendizaje {lr:g} es demasiado grande para estos puntos.",
    "meta_training_maml": "Metaentrenando MAML",
    "sine_iteration": "Iteración {iteration} de {iterations} · metapérdida {loss:.3f} · {seconds:.0f} s",
    "sine_done": ("Hecho: {iterations} iteraciones en {seconds:.0f} s, metapérdida final {loss:.3f}. 'El MAML que "
                  "entrenaste' está ahora elegido arriba: pulsa **Adaptar** para verlo aprender una onda nueva."),
    "panel_title": "<b>{name}</b>: tras {step} de {steps} pasos",
    "true_wave": "onda real", "prediction": "predicción", "earlier_steps": "pasos anteriores",
    "k_points_trace": "K = {k} puntos",
    "meta_loss": "metapérdida", "meta_iteration": "iteración de metaentrenamiento",
    "loss_after_adapting": "pérdida tras adaptarse (MSE)",
    "sine_training_title": "Metaentrenando MAML con ondas sinusoidales",
    "whole_number": "{what}: se espera un número entero de {low} a {high}; se recibió {got}",
    "number_above": "{what}: se espera un número mayor que {low} y como mucho {high}; se recibió {got}",
    "number_at_least": "{what}: se espera un número de al menos {low} y como mucho {high}; se recibió {got}",
    "what_classes": "Número de clases", "what_gallery": "Número de dibujos de galería", "what_n_way": "N-way",
    "what_k_shot": "K-shot", "what_queries": "Consultas por clase", "what_inner_steps": "Pasos internos",
    "what_steps": "Pasos", "what_seed": "Semilla", "what_iterations": "Iteraciones",
    "what_training_time": "Tiempo de entrenamiento", "what_lr": "Tasa de aprendizaje interna",
    "nav_status": "Meta ({x:+.2f}, {y:+.2f}). Retorno antes de adaptarse → tras {steps} pasos: {returns}",
    "nav_paths": "{name}: caminos tras cada paso",
    "nav_done": "Hecho: {iterations} iteraciones. 'El MAML que entrenaste' está elegido: haz clic en una meta para "
                "verlo adaptarse.",
    "nav_iteration": ("Iteración {iteration} de {iterations} · {seconds:.0f} s · retorno {before:.1f} antes de "
                      "adaptarse, {after:.1f} tras un paso"),
    "nav_returns_title": "Retorno por paso (media de 20 episodios)",
    "inner_steps_axis": "pasos internos", "return_axis": "retorno",
    "before_adapting_trace": "antes de adaptarse", "after_one_step_trace": "tras 1 paso",
    "nav_training_title": "Retorno en metas de validación durante el metaentrenamiento",
    "outer_iterations": "iteraciones externas",
}

#: The algorithm registry's descriptions ("field:name"; "family:<family>" for a family's).
ALGORITHMS = {
    "family:initialisation": "aprenden una inicialización que unos pocos pasos de gradiente adaptan a cada tarea",
    "family:metric": "comparan embeddings con una métrica fija",
    "family:relation": "aprenden la propia comparación",
    "summary:maml": ("MAML aprendió un punto de partida desde el que unos pocos pasos de gradiente sobre tus ejemplos "
                     "los ajustan bien. Su bucle externo deriva *a través* de esos pasos."),
    "summary:fomaml": ("First-order MAML: como MAML, pero más barato de metaentrenar, porque su bucle externo ignora "
                       "las segundas derivadas de los pasos internos."),
    "summary:metasgd": ("Meta-SGD aprendió su punto de partida *y* un tamaño de paso para cada peso (aquí la tasa de "
                        "aprendizaje los reescala), así que cada paso puede llegar lejos."),
    "summary:reptile": ("Reptile aprendió su punto de partida entrenando repetidamente con una sola tarea durante "
                        "unos pocos pasos y acercando el punto de partida al resultado."),
    "summary:protomaml": ("Proto-MAML es MAML con una cabeza que parte de las medias por clase de los embeddings, así "
                          "que los pasos internos afinan un clasificador que ya es bueno."),
    "summary:protonet": ("Las Prototypical Networks no tienen pasos internos: cada clase es el embedding medio (su "
                         "*prototipo*) de sus ejemplos, y una consulta va al prototipo más cercano."),
    "summary:matchingnet": ("Las Matching Networks no tienen pasos internos: una consulta mira cada ejemplo, pondera "
                            "cada uno según lo parecida que sea la dirección de sus embeddings (similitud del "
                            "coseno), y cada clase recibe el peso de sus ejemplos."),
    "summary:relationnet": ("Las Relation Networks aprenden la propia comparación: una red pequeña mira una consulta "
                            "junto a los ejemplos de cada clase y da al par una puntuación de relación de 0 (sin "
                            "relación) a 1 (misma clase)."),
    "head_description:maml": ("una cabeza de ceros: predice todas las clases por igual (el azar) hasta que los pasos "
                              "internos han aprendido"),
    "head_description:fomaml": ("una cabeza de ceros: predice todas las clases por igual (el azar) hasta que los "
                                "pasos internos han aprendido"),
    "head_description:metasgd": ("una cabeza de ceros: predice todas las clases por igual (el azar) hasta que los "
                                 "pasos internos han aprendido"),
    "head_description:reptile": ("una cabeza de ceros: predice todas las clases por igual (el azar) hasta que los "
                                 "pasos internos han aprendido"),
    "head_description:protomaml": ("una cabeza construida con las medias por clase de los embeddings de los ejemplos "
                                   "(prototipos): ya clasifica como las Prototypical Networks antes del primer paso"),
    "fitted_as:protonet": "prototipos",
    "fitted_as:matchingnet": "ejemplos con embedding sobre los que atender",
    "fitted_as:relationnet": "mapas de características de clase con los que comparar",
    "pair_score_label:relationnet": "puntuación de relación",
    **{f"centre_name:{name}": "centro de clase" for name in ("maml", "fomaml", "metasgd", "reptile", "protomaml",
                                                              "matchingnet", "relationnet")},
    "centre_name:protonet": "prototipo",
}
